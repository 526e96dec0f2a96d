//! `#[tricolor_gc::main]`: runs `main`'s body as the main G of a gc-runtime
//! scheduler, like `#[tokio::main]` (the body is plain code, not async: Gs
//! are stackful).
//!
//! Invariants of the expansion:
//!
//! * The function must be written `unsafe fn`: that `unsafe` is the user
//!   accepting, once, the runtime's migration contract
//!   (`gc_runtime::Builder::allow_migration`: thread-locals are per OS
//!   thread and Gs migrate). Without it the macro is a compile error that
//!   says so. The emitted function is a safe `fn` with the same name,
//!   visibility and return type; the body is not an unsafe context.
//! * `procs = N` and `stack_size = N` are passed to the builder.
//! * The body runs inside `block_on(move || body)`, so its value (and a
//!   `return`) is the function's result; a panic in it is re-raised.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ItemFn, MetaNameValue, Token};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let f: ItemFn = syn::parse2(item)?;
    let metas = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(args)?;
    let mut settings = Vec::new();
    for m in metas {
        let value: &Expr = &m.value;
        if m.path.is_ident("procs") {
            settings.push(quote!(.procs(#value)));
        } else if m.path.is_ident("stack_size") {
            settings.push(quote!(.stack_size(#value)));
        } else {
            return Err(syn::Error::new_spanned(m.path, "expected `procs = N` or `stack_size = N`"));
        }
    }
    if f.sig.unsafety.is_none() {
        return Err(syn::Error::new_spanned(
            f.sig.fn_token,
            "#[tricolor_gc::main] needs `unsafe fn`: writing `unsafe` accepts the runtime's migration contract \
             (Gs move between OS threads, thread-locals are per thread; see gc_runtime::Builder::allow_migration)",
        ));
    }
    if f.sig.asyncness.is_some() {
        return Err(syn::Error::new_spanned(f.sig.asyncness, "gc-runtime Gs are stackful: write a plain fn"));
    }
    if !f.sig.inputs.is_empty() || !f.sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&f.sig, "#[tricolor_gc::main] takes a fn without arguments or generics"));
    }
    let attrs = &f.attrs;
    let vis = &f.vis;
    let name = &f.sig.ident;
    let output = &f.sig.output;
    let body = &f.block;
    Ok(quote! {
        #(#attrs)*
        #vis fn #name() #output {
            // SAFETY: the user wrote `unsafe fn`, accepting the migration
            // contract of `Builder::allow_migration`.
            let __builder = unsafe { ::tricolor_gc::runtime::Runtime::builder().allow_migration() };
            let __runtime = __builder #(#settings)* .build()
                .expect("#[tricolor_gc::main]: cannot build the gc-runtime scheduler");
            __runtime.block_on(move || #body)
        }
    })
}
