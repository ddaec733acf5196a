//! How deep the tokens the macros parse nest ([`MAX_NESTING`]), checked without recursion
//! before syn parses them.

use proc_macro2::TokenStream;

use super::MAX_NESTING;

/// A compile error at the first place where `tokens` nest deeper than [`MAX_NESTING`],
/// found without recursion. A function body (the item's last brace group) is skipped: it is
/// kept as tokens, never parsed by the macro.
pub(crate) fn check_nesting(tokens: &TokenStream, skip_fn_body: bool) -> syn::Result<()> {
    use proc_macro2::{Delimiter, Spacing, TokenTree};
    let mut top: Vec<TokenTree> = tokens.clone().into_iter().collect();
    if skip_fn_body
        && matches!(top.last(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace)
    {
        top.pop();
    }
    // One entry per open group: its remaining tokens and the depth of `<` open inside it.
    type Tokens = std::iter::Peekable<proc_macro2::token_stream::IntoIter>;
    let mut stack: Vec<(Tokens, usize)> = Vec::new();
    let mut pending: Tokens = top
        .into_iter()
        .collect::<TokenStream>()
        .into_iter()
        .peekable();
    let mut angles = 0usize;
    let mut previous_joint: Option<char> = None;
    loop {
        let Some(tree) = pending.next() else {
            match stack.pop() {
                Some((rest, outer_angles)) => {
                    pending = rest;
                    angles = outer_angles;
                    previous_joint = None;
                    continue;
                }
                None => return Ok(()),
            }
        };
        let depth = stack.len() + angles;
        match tree {
            TokenTree::Group(group) => {
                if depth + 1 > MAX_NESTING {
                    return Err(too_deep(group.span()));
                }
                let inner = group.stream().into_iter().peekable();
                stack.push((std::mem::replace(&mut pending, inner), angles));
                angles = 0;
                previous_joint = None;
            }
            TokenTree::Punct(punct) => {
                let c = punct.as_char();
                // `<<`, `<=` and `<-`: operators (in a discriminant or a const), not generics.
                let operator = c == '<'
                    && punct.spacing() == Spacing::Joint
                    && matches!(pending.peek(), Some(TokenTree::Punct(p)) if matches!(p.as_char(), '<' | '=' | '-'));
                match c {
                    '<' if operator => {
                        // Skip the operator's second character too.
                        pending.next();
                    }
                    '<' => {
                        if depth + 1 > MAX_NESTING {
                            return Err(too_deep(punct.span()));
                        }
                        angles += 1;
                    }
                    // Not the `>` of `->`, `=>` or `>=`-like operators.
                    '>' if !matches!(previous_joint, Some('-' | '=')) => {
                        angles = angles.saturating_sub(1);
                    }
                    _ => {}
                }
                previous_joint = (punct.spacing() == Spacing::Joint).then_some(c);
            }
            _ => previous_joint = None,
        }
    }
}

fn too_deep(span: proc_macro2::Span) -> syn::Error {
    syn::Error::new(
        span,
        format!(
            "nested more than {MAX_NESTING} levels deep (brackets and `<...>`): the macro does not \
             parse tokens this deep; name the inner part with a type alias or a constant"
        ),
    )
}
