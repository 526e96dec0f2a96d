//! Parsing of the `#[trace(...)]` helper attributes.
//!
//! Container attributes: `#[trace(crate = "path")]`, `#[trace(no_pointers)]`.
//! Field attributes: `#[trace(skip)]`. Anything else, including `#[trace]` on
//! an enum variant, is a `syn::Error` spanned at the offending tokens.

use proc_macro2::Span;
use syn::{Attribute, LitStr, Path};

/// Options given on the type itself.
pub(crate) struct ContainerAttrs {
    /// Path of the facade crate; `::tricolor_gc` unless overridden.
    pub krate: Path,
    /// `#[trace(no_pointers)]`: the type declares (and the derive checks) that
    /// it holds no GC pointers. Holds the `no_pointers` keyword's span.
    pub no_pointers: Option<Span>,
    /// `#[repr(packed)]` or `#[repr(packed(N))]` was seen. Holds the `packed` span.
    pub packed: Option<Span>,
}

impl ContainerAttrs {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut krate: Option<Path> = None;
        let mut no_pointers = None;
        let mut packed = None;
        for attr in attrs {
            if attr.path().is_ident("repr") {
                // Other derives and rustc validate `repr`; we only look for
                // `packed`, and ignore what we cannot parse.
                let _ = attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("packed") {
                        packed = Some(meta.path.get_ident().unwrap().span());
                    }
                    if meta.input.peek(syn::token::Paren) {
                        let _content;
                        syn::parenthesized!(_content in meta.input);
                    }
                    Ok(())
                });
                continue;
            }
            if !attr.path().is_ident("trace") {
                continue;
            }
            expect_list(attr)?;
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("crate") {
                    if krate.is_some() {
                        return Err(meta.error("duplicate `crate` in #[trace(...)]"));
                    }
                    let value = meta.value()?;
                    let path = if value.peek(LitStr) {
                        let lit: LitStr = value.parse()?;
                        // Tokens get the literal's span, so `crate` resolves in
                        // the user's crate and errors point at the string.
                        lit.parse::<Path>()
                            .map_err(|e| syn::Error::new(lit.span(), format!("invalid crate path: {e}")))?
                    } else {
                        value.call(Path::parse_mod_style)?
                    };
                    krate = Some(path);
                    Ok(())
                } else if meta.path.is_ident("no_pointers") {
                    if no_pointers.is_some() {
                        return Err(meta.error("duplicate `no_pointers` in #[trace(...)]"));
                    }
                    no_pointers = Some(meta.path.get_ident().unwrap().span());
                    Ok(())
                } else if meta.path.is_ident("skip") {
                    Err(meta.error(
                        "`#[trace(skip)]` goes on a field; \
                         on the type, use `#[trace(no_pointers)]`",
                    ))
                } else {
                    Err(meta.error(
                        "unknown #[trace(...)] option on a type; \
                         expected `crate = \"path\"` or `no_pointers`",
                    ))
                }
            })?;
        }
        let krate = krate.unwrap_or_else(|| syn::parse_quote!(::tricolor_gc));
        Ok(ContainerAttrs { krate, no_pointers, packed })
    }
}

/// Options given on one field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    /// `#[trace(skip)]`: not traced; its type must be `NoGcPointers`.
    pub skip: Option<Span>,
}

impl FieldAttrs {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = FieldAttrs::default();
        for attr in attrs {
            if !attr.path().is_ident("trace") {
                continue;
            }
            expect_list(attr)?;
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("skip") {
                    if out.skip.is_some() {
                        return Err(meta.error("duplicate `skip` in #[trace(...)]"));
                    }
                    out.skip = Some(meta.path.get_ident().unwrap().span());
                    Ok(())
                } else if meta.path.is_ident("no_pointers") || meta.path.is_ident("crate") {
                    Err(meta.error("this #[trace(...)] option goes on the type, not on a field"))
                } else {
                    Err(meta.error("unknown #[trace(...)] option on a field; expected `skip`"))
                }
            })?;
        }
        Ok(out)
    }
}

/// Rejects `#[trace(...)]` on enum variants: there is nothing to configure.
pub(crate) fn reject_variant_attrs(attrs: &[Attribute]) -> syn::Result<()> {
    match attrs.iter().find(|a| a.path().is_ident("trace")) {
        Some(attr) => Err(syn::Error::new_spanned(
            attr,
            "#[trace(...)] is not supported on enum variants; put `skip` on fields or \
             `no_pointers` on the enum",
        )),
        None => Ok(()),
    }
}

fn expect_list(attr: &Attribute) -> syn::Result<()> {
    match &attr.meta {
        syn::Meta::List(list) if !list.tokens.is_empty() => Ok(()),
        _ => Err(syn::Error::new_spanned(
            attr,
            "expected #[trace(skip)], #[trace(no_pointers)] or #[trace(crate = \"path\")]",
        )),
    }
}
