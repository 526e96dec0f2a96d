//! Code generation for `#[derive(Trace)]`. See the crate docs for the
//! guarantees; this module's comments say which piece upholds which.

use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Data, DeriveInput, Fields, Generics, Type, WherePredicate};

use crate::attrs::{reject_variant_attrs, ContainerAttrs, FieldAttrs};

/// One field of the struct or of one enum variant.
struct Field<'a> {
    /// `self.<member>` for structs; the name or index in the variant pattern.
    member: syn::Member,
    ty: &'a Type,
    /// `Some` if `#[trace(skip)]`.
    skip: Option<Span>,
}

struct Variant<'a> {
    ident: &'a Ident,
    style: Style,
    fields: Vec<Field<'a>>,
}

#[derive(Clone, Copy)]
enum Style {
    Named,
    Tuple,
    Unit,
}

enum Shape<'a> {
    Struct(Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

impl Shape<'_> {
    fn fields(&self) -> Box<dyn Iterator<Item = &Field<'_>> + '_> {
        match self {
            Shape::Struct(fields) => Box::new(fields.iter()),
            Shape::Enum(variants) => Box::new(variants.iter().flat_map(|v| v.fields.iter())),
        }
    }
}

/// How the derive proves that a type holds no GC pointers (`skip` fields, and
/// every field of a `no_pointers` type).
enum NoGcCheck {
    /// The type mentions a generic parameter: a `Ty: NoGcPointers` predicate
    /// on every generated impl, so the impls exist only where it holds.
    WherePredicate,
    /// A concrete or self-referential type: an assertion in a never-called
    /// function, checked once at definition. A where-predicate would be a
    /// trivially false bound (an error, but an unreadable one) for a concrete
    /// type and an infinite trait-solver cycle for a recursive one.
    Assertion,
}

pub(crate) fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let attrs = ContainerAttrs::parse(&input.attrs)?;
    let krate = &attrs.krate;
    let ident = &input.ident;

    let shape = match &input.data {
        Data::Struct(data) => Shape::Struct(fields(&data.fields)?),
        Data::Enum(data) => {
            let mut variants = Vec::new();
            for v in &data.variants {
                reject_variant_attrs(&v.attrs)?;
                let style = match &v.fields {
                    Fields::Named(_) => Style::Named,
                    Fields::Unnamed(_) => Style::Tuple,
                    Fields::Unit => Style::Unit,
                };
                variants.push(Variant { ident: &v.ident, style, fields: fields(&v.fields)? });
            }
            Shape::Enum(variants)
        }
        Data::Union(data) => {
            return Err(syn::Error::new(
                data.union_token.span,
                "#[derive(Trace)] does not support unions: the collector cannot tell which \
                 field is live, so it cannot find the GC pointers; use a struct or an enum",
            ))
        }
    };

    if let Some(no_pointers) = attrs.no_pointers {
        if let Some(skip) = shape.fields().find_map(|f| f.skip) {
            let mut err = syn::Error::new(
                skip,
                "`#[trace(skip)]` is redundant on a `#[trace(no_pointers)]` type: every field \
                 is already required to be `NoGcPointers` and none is traced",
            );
            err.combine(syn::Error::new(no_pointers, "`no_pointers` given here"));
            return Err(err);
        }
    } else if let Some(packed) = attrs.packed {
        return Err(syn::Error::new(
            packed,
            "#[derive(Trace)] does not support #[repr(packed)] types: a GC pointer field must \
             stay word-aligned for the collector and the write barrier; if the type holds no \
             GC pointers, add #[trace(no_pointers)]",
        ));
    }

    // Which fields must be proven `NoGcPointers`, and how.
    let params = generic_param_names(&input.generics);
    let must_be_no_gc: Vec<(&Field, NoGcCheck)> = shape
        .fields()
        .filter(|f| attrs.no_pointers.is_some() || f.skip.is_some())
        .map(|f| {
            let tokens = f.ty.to_token_stream();
            let check = if is_recursive(f.ty, ident) {
                NoGcCheck::Assertion
            } else if mentions(&tokens, &|i| params.iter().any(|p| i == p)) {
                NoGcCheck::WherePredicate
            } else {
                NoGcCheck::Assertion
            };
            (f, check)
        })
        .collect();

    // Generics of the generated impls: type parameters must be `TraceLayout`
    // (unless `no_pointers`, whose impls depend only on the fields being
    // `NoGcPointers`), plus the `NoGcPointers` predicates for generic fields.
    let mut generics = input.generics.clone();
    if attrs.no_pointers.is_none() {
        for param in generics.type_params_mut() {
            param.bounds.push(syn::parse_quote!(#krate::TraceLayout));
        }
    }
    for (f, check) in &must_be_no_gc {
        if let NoGcCheck::WherePredicate = check {
            let ty = f.ty;
            let pred: WherePredicate = syn::parse2(quote_spanned!(ty.span()=> #ty: #krate::NoGcPointers))?;
            generics.make_where_clause().predicates.push(pred);
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let tracer = Ident::new("__tricolor_gc_tracer", Span::mixed_site());
    let (trace_body, tracer_used) =
        if attrs.no_pointers.is_some() { (TokenStream::new(), false) } else { trace_body(krate, &shape, &tracer) };
    let uses_no_gc = attrs.no_pointers.is_some() || shape.fields().any(|f| f.skip.is_some());
    let no_gc_identity = if uses_no_gc { no_gc_identity(krate) } else { TokenStream::new() };
    let tracer_pat = if tracer_used { tracer.to_token_stream() } else { quote!(_) };

    // `no_pointers` types may implement `Drop`, so they keep the trait's
    // default `NEEDS_DROP` (`needs_drop::<Self>()`).
    let (no_pointers, pointer_map, needs_drop) = if attrs.no_pointers.is_some() {
        (quote!(true), quote!(#krate::PointerMap::EMPTY), TokenStream::new())
    } else {
        let (no_pointers, map) = layout(krate, ident, &shape);
        let needs_drop = needs_drop(krate, ident, &shape);
        (no_pointers, map, quote!(const NEEDS_DROP: bool = #needs_drop;))
    };

    let no_gc_impl = attrs.no_pointers.map(|_| {
        quote! {
            #[automatically_derived]
            unsafe impl #impl_generics #krate::NoGcPointers for #ident #ty_generics #where_clause {}
        }
    });

    let drop_check = if attrs.no_pointers.is_some() { TokenStream::new() } else { drop_check(input) };

    let field_check = field_check(
        krate,
        attrs.no_pointers.is_some(),
        &must_be_no_gc,
        &quote!(#ident #ty_generics),
        &impl_generics,
        where_clause,
    );

    let checks = if drop_check.is_empty() && field_check.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            #[allow(unused)]
            const _: () = {
                #drop_check
                #field_check
            };
        }
    };

    // The heap aligns objects to at most a page (8192 bytes). For a
    // non-generic type the derive says so at once (a `const` item is
    // evaluated by `cargo check`); a generic one is checked where it is
    // first allocated (gc-core's `object::checked_align`).
    let align_check = if input.generics.params.is_empty() {
        quote! {
            const _: () = ::core::assert!(
                ::core::mem::align_of::<#ident>() <= 8192,
                "tricolor-gc: a GC object's alignment must be at most a page (8192 bytes); box the over-aligned value"
            );
        }
    } else {
        TokenStream::new()
    };

    Ok(quote! {
        #align_check

        #[automatically_derived]
        unsafe impl #impl_generics #krate::Trace for #ident #ty_generics #where_clause {
            #[inline]
            fn trace(&self, #tracer_pat: &mut #krate::Tracer<'_>) {
                #no_gc_identity
                #trace_body
            }
        }

        #[automatically_derived]
        unsafe impl #impl_generics #krate::TraceLayout for #ident #ty_generics #where_clause {
            const NO_POINTERS: bool = #no_pointers;
            const POINTER_MAP: #krate::PointerMap = #pointer_map;
            #needs_drop
        }

        #no_gc_impl

        #checks
    })
}

/// Proves that `#krate::NoGcPointers`, against which every `NoGcPointers`
/// check and impl of this derive is written, is the trait gc-core's `Trace`
/// names, rather than a look-alike (or `Send`) at a user-chosen `crate` path
/// (pointer-model rows 51 and 52).
///
/// It sits in the `Trace` impl and goes through the trait being implemented,
/// `<Self as #krate::Trace>`: if that is gc-core's `Trace`, its hidden method
/// takes `&dyn gc_core::NoGcPointers`, and the coercion below compiles only
/// if `#krate::NoGcPointers` is that same trait (distinct `dyn` types never
/// coerce inside a function pointer type). If `#krate::Trace` is not
/// gc-core's, neither impl is of any use to the collector: gc-core's
/// `TraceLayout`, which `Gc` requires, has gc-core's `Trace` as a supertrait.
/// Taking a function item's address emits no code.
fn no_gc_identity(krate: &syn::Path) -> TokenStream {
    quote_spanned! {krate.span()=>
        let _: fn(&Self, &dyn #krate::NoGcPointers) =
            <Self as #krate::Trace>::__derive_no_gc_pointers_is;
    }
}

/// The definition-time `NoGcPointers` assertions (see [`NoGcCheck`]), in a
/// never-called function with the impls' generics, so that the assertions
/// may use the where-predicates of the generic fields. A local helper trait
/// carries a diagnostic that says why the field must be pointer-free.
fn field_check(
    krate: &syn::Path,
    no_pointers_type: bool,
    must_be_no_gc: &[(&Field, NoGcCheck)],
    self_ty: &TokenStream,
    impl_generics: &syn::ImplGenerics,
    where_clause: Option<&syn::WhereClause>,
) -> TokenStream {
    const ASSERT: &str = "field_must_be_no_gc_pointers";
    let assertions: Vec<TokenStream> = must_be_no_gc
        .iter()
        .filter(|(_, check)| matches!(check, NoGcCheck::Assertion))
        .map(|(f, _)| {
            // The function below is not inside an impl, so `Self` must be
            // spelled out.
            let ty = replace_self(f.ty.to_token_stream(), self_ty);
            let assert = Ident::new(ASSERT, f.ty.span());
            quote_spanned!(f.ty.span()=> #assert::<#ty>();)
        })
        .collect();
    if assertions.is_empty() {
        return TokenStream::new();
    }
    let diagnostic = if no_pointers_type {
        quote! {
            #[diagnostic::on_unimplemented(
                message = "field of type `{Self}` may hold GC pointers, \
                           but the type is `#[trace(no_pointers)]`",
                label = "field's type is not `NoGcPointers`",
                note = "`no_pointers` types are never scanned, so a GC pointer inside them would \
                        not keep its target alive",
                note = "if this field is meant to hold `Member`s or a `GcVec`, remove \
                        `#[trace(no_pointers)]` from the type (which may then not implement \
                        `Drop`); if it holds only plain data, make its type pointer-free: on your \
                        own type, `#[derive(Trace)]` with `#[trace(no_pointers)]`"
            )]
        }
    } else {
        quote! {
            #[diagnostic::on_unimplemented(
                message = "`#[trace(skip)]` field of type `{Self}` may hold GC pointers",
                label = "skipped field's type is not `NoGcPointers`",
                note = "a skipped field is never traced, so a `Member` inside it would not keep \
                        its target alive",
                note = "remove `#[trace(skip)]` to trace the field, or, if it holds only plain \
                        data, make its type pointer-free: on your own type, `#[derive(Trace)]` \
                        with `#[trace(no_pointers)]`"
            )]
        }
    };
    // A field whose type wraps the offending one (`Arc<Member<T>>`,
    // `Box<Member<T>>`) is reported by rustc at the innermost failure, with
    // `NoGcPointers`'s own message (gc-core/src/trace/mod.rs), which names
    // the fix for locks and `Arc`s; the notes below apply to a field whose
    // own type is not `NoGcPointers`.
    let assert = Ident::new(ASSERT, Span::call_site());
    quote! {
        #diagnostic
        trait FieldHasNoGcPointers {}
        impl<T: ?::core::marker::Sized + #krate::NoGcPointers> FieldHasNoGcPointers for T {}
        fn #assert<T: ?::core::marker::Sized + FieldHasNoGcPointers>() {}

        // Never called: type-checking its body is the check.
        #[allow(dead_code, non_snake_case, clippy::extra_unused_type_parameters, clippy::multiple_bound_locations)]
        fn __tricolor_gc_check_fields #impl_generics () #where_clause {
            #(#assertions)*
        }
    }
}

fn fields(fields: &Fields) -> syn::Result<Vec<Field<'_>>> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let member = match &f.ident {
                Some(ident) => syn::Member::Named(ident.clone()),
                None => syn::Member::Unnamed(syn::Index {
                    index: u32::try_from(i).expect("more than u32::MAX fields"),
                    span: f.ty.span(),
                }),
            };
            Ok(Field { member, ty: &f.ty, skip: FieldAttrs::parse(&f.attrs)?.skip })
        })
        .collect()
}

/// The body of `Trace::trace`: one `<F as Trace>::trace` call per traced
/// field (every field not marked `skip`), and whether it uses the tracer.
fn trace_body(krate: &syn::Path, shape: &Shape, tracer: &Ident) -> (TokenStream, bool) {
    // Spanned at the field's type, so "`Gc<T>: Trace` is not satisfied"
    // points at the offending field.
    let call = |ty: &Type, place: TokenStream| {
        let trace = quote_spanned!(ty.span()=> <#ty as #krate::Trace>::trace);
        quote!(#trace(#place, #tracer);)
    };
    match shape {
        Shape::Struct(fields) => {
            let calls: Vec<_> = fields
                .iter()
                .filter(|f| f.skip.is_none())
                .map(|f| {
                    let member = &f.member;
                    call(f.ty, quote!(&self.#member))
                })
                .collect();
            let used = !calls.is_empty();
            (quote!(#(#calls)*), used)
        }
        Shape::Enum(variants) if variants.is_empty() => (quote!(match *self {}), false),
        Shape::Enum(variants) => {
            let mut used = false;
            let arms = variants.iter().map(|v| {
                let name = v.ident;
                let mut calls = Vec::new();
                let pats: Vec<TokenStream> = v
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        if f.skip.is_some() {
                            return quote!(_);
                        }
                        // Mixed-site: cannot clash with user locals.
                        let binding = Ident::new(&format!("__tricolor_gc_f{i}"), Span::mixed_site());
                        calls.push(call(f.ty, binding.to_token_stream()));
                        binding.into_token_stream()
                    })
                    .collect();
                used |= !calls.is_empty();
                let pat = match v.style {
                    Style::Unit => quote!(Self::#name),
                    Style::Tuple => quote!(Self::#name(#(#pats),*)),
                    Style::Named => {
                        let members = v.fields.iter().map(|f| &f.member);
                        quote!(Self::#name { #(#members: #pats),* })
                    }
                };
                quote!(#pat => { #(#calls)* })
            });
            let arms: Vec<_> = arms.collect();
            (quote!(match self { #(#arms)* }), used)
        }
    }
}

/// `NO_POINTERS` and `POINTER_MAP` for a type that is not `no_pointers`.
fn layout(krate: &syn::Path, ident: &Ident, shape: &Shape) -> (TokenStream, TokenStream) {
    // A field whose type names the type itself (`Vec<Self>`,
    // `Option<Box<Node<T>>>`) would make the constants depend on
    // themselves, a const-evaluation cycle. Such a field counts as "may hold
    // pointers, layout unknown" (`false`, `OPAQUE`), which is always sound:
    // the collector then calls `trace`.
    let recursive = |f: &Field| is_recursive(f.ty, ident);
    let traced: Vec<&Field> = shape.fields().filter(|f| f.skip.is_none()).collect();

    let terms: Vec<TokenStream> = traced
        .iter()
        .map(|f| {
            if recursive(f) {
                quote!(false)
            } else {
                let ty = f.ty;
                quote_spanned!(ty.span()=> <#ty as #krate::TraceLayout>::NO_POINTERS)
            }
        })
        .collect();
    let no_pointers = if terms.is_empty() { quote!(true) } else { quote!(#(#terms)&&*) };

    let map = match shape {
        Shape::Enum(_) => quote! {
            // Which variant is live decides where the pointers are.
            #krate::PointerMap::opaque_unless(<Self as #krate::TraceLayout>::NO_POINTERS)
        },
        Shape::Struct(_) => {
            let adds = traced.iter().map(|f| {
                let member = &f.member;
                let field_map = if recursive(f) {
                    quote!(#krate::PointerMap::OPAQUE)
                } else {
                    let ty = f.ty;
                    quote_spanned!(ty.span()=> <#ty as #krate::TraceLayout>::POINTER_MAP)
                };
                quote!(.with_field(::core::mem::offset_of!(Self, #member), #field_map))
            });
            quote!(#krate::PointerMap::EMPTY #(#adds)*)
        }
    };
    (no_pointers, map)
}

/// `NEEDS_DROP` for a type that is not `no_pointers`: such a type cannot
/// implement `Drop` (see [`drop_check`]), so its drop glue is exactly its
/// fields' (of every variant, skipped fields included). Traced fields
/// contribute their `NEEDS_DROP` (so `Member`s, which need no drop at sweep,
/// do not force a drop pass); skipped fields, which need not be
/// `TraceLayout`, and self-referential ones, whose constant would be a cycle,
/// contribute `core::mem::needs_drop`, which is never wrongly `false`.
fn needs_drop(krate: &syn::Path, ident: &Ident, shape: &Shape) -> TokenStream {
    let terms: Vec<TokenStream> = shape
        .fields()
        .map(|f| {
            let ty = f.ty;
            if f.skip.is_some() || is_recursive(ty, ident) {
                quote_spanned!(ty.span()=> ::core::mem::needs_drop::<#ty>())
            } else {
                quote_spanned!(ty.span()=> <#ty as #krate::TraceLayout>::NEEDS_DROP)
            }
        })
        .collect();
    if terms.is_empty() {
        quote!(false)
    } else {
        quote!(#(#terms)||*)
    }
}

/// Makes `impl Drop for Ty` a compile error (the pin-project trick): if the
/// type implemented `Drop`, the blanket impl and the type's own impl of the
/// local trait would overlap. Uses the type's original generics, so any
/// `Drop` impl (which must match them exactly) conflicts.
///
/// The coherence error (E0119) cannot carry a message of its own beyond the
/// trait's name, so a second check says what to write instead: a method
/// call that resolves to an inherent method of `DropProbe<Ty>` when `Ty:
/// Drop` holds (inherent candidates whose impl bounds fail are skipped in
/// favour of the trait method that does nothing), and that inherent method
/// requires a trait no type implements, whose `on_unimplemented` names the
/// fix. The coherence error stays as the guarantee.
fn drop_check(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let probe = quote! {
        #[diagnostic::on_unimplemented(
            message = "`{Self}` derives `Trace`, so it must not implement `Drop`",
            label = "`{Self}` implements `Drop`",
            note = "pointer-free types may implement Drop with #[trace(no_pointers)]: \
                    add `#[trace(no_pointers)]` below `#[derive(Trace)]` if `{Self}` holds no \
                    `Member`, `GcVec` or `Weak`",
            note = "a type with GC pointers cannot have a destructor (it could read objects freed \
                    in the same sweep, or move a GC pointer out of the dead object): move the \
                    cleanup into a `#[trace(no_pointers)]` field type, or attach a `Cleanup` \
                    to the object"
        )]
        trait TypesDerivingTraceMayNotImplementDrop {}
        struct DropProbe<T: ?::core::marker::Sized>(::core::marker::PhantomData<T>);
        #[allow(drop_bounds)]
        impl<T: ::core::ops::Drop + ?::core::marker::Sized> DropProbe<T> {
            fn probe(&self) where T: TypesDerivingTraceMayNotImplementDrop {}
        }
        trait NotDrop {
            fn probe(&self) {}
        }
        impl<T: ?::core::marker::Sized> NotDrop for DropProbe<T> {}
        // Never called: type-checking its body is the check.
        #[allow(dead_code, non_snake_case, clippy::extra_unused_type_parameters, clippy::multiple_bound_locations)]
        fn __tricolor_gc_check_drop #impl_generics () #where_clause {
            DropProbe::<#ident #ty_generics>(::core::marker::PhantomData).probe();
        }
    };
    quote! {
        #probe

        /// A type that derives `Trace` must not implement `Drop`.
        ///
        /// When the sweeper frees a dead object, the objects its `Member`s
        /// point to may have been freed in the same cycle: a destructor could
        /// read them (use after free) or move a GC pointer out of the dead
        /// object into live memory behind the write barrier's back
        /// (resurrecting a freed object). Pointer-free types
        /// (`#[trace(no_pointers)]`) may implement `Drop`: put cleanup in such
        /// a field.
        #[allow(non_camel_case_types)]
        trait TypesDerivingTraceMayNotImplementDrop_PointerFreeTypesMayWithTraceNoPointers {}
        #[allow(drop_bounds)]
        impl<T: ::core::ops::Drop + ?::core::marker::Sized>
            TypesDerivingTraceMayNotImplementDrop_PointerFreeTypesMayWithTraceNoPointers for T {}
        impl #impl_generics
            TypesDerivingTraceMayNotImplementDrop_PointerFreeTypesMayWithTraceNoPointers
            for #ident #ty_generics #where_clause {}
    }
}

/// Names of the type and const parameters (lifetimes cannot change whether a
/// type holds GC pointers).
fn generic_param_names(generics: &Generics) -> Vec<Ident> {
    generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(t.ident.clone()),
            syn::GenericParam::Const(c) => Some(c.ident.clone()),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect()
}

/// GC pointer types: their layout constants do not depend on their type
/// argument, so `Member<Self>` is not a recursive use of `Self`.
const POINTER_TYPES: &[&str] = &["Member", "Weak", "GcVec"];

/// True if `ty` names the type being derived (by its name or `Self`) other
/// than as the target of a GC pointer: then its layout constants would depend
/// on themselves. Syntactic, so a false positive (another type of the same
/// name, a type alias of `Member`) only makes the derive more conservative;
/// a type macro counts as recursive.
fn is_recursive(ty: &Type, ident: &Ident) -> bool {
    struct Finder<'a> {
        ident: &'a Ident,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_path_segment(&mut self, seg: &'ast syn::PathSegment) {
            if seg.ident == "Self" || seg.ident == *self.ident {
                self.found = true;
            } else if !POINTER_TYPES.iter().any(|p| seg.ident == p) {
                visit::visit_path_segment(self, seg);
            }
        }
        fn visit_type_macro(&mut self, _: &'ast syn::TypeMacro) {
            self.found = true;
        }
    }
    let mut finder = Finder { ident, found: false };
    finder.visit_type(ty);
    finder.found
}

/// True if any identifier in `tokens` satisfies `pred`. A purely syntactic
/// test: a false positive only makes the derive more conservative.
fn mentions(tokens: &TokenStream, pred: &dyn Fn(&Ident) -> bool) -> bool {
    tokens.clone().into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => pred(&i),
        TokenTree::Group(g) => mentions(&g.stream(), pred),
        _ => false,
    })
}

/// Replaces every `Self` in `tokens` with `with`.
fn replace_self(tokens: TokenStream, with: &TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|tt| -> Vec<TokenTree> {
            match tt {
                TokenTree::Ident(i) if i == "Self" => with.clone().into_iter().collect(),
                TokenTree::Group(g) => {
                    let mut new = Group::new(g.delimiter(), replace_self(g.stream(), with));
                    new.set_span(g.span());
                    vec![TokenTree::Group(new)]
                }
                other => vec![other],
            }
        })
        .collect()
}
