//! Small helpers of requests and answers that the routes share: query parameters read the
//! same way everywhere, and answers no cache may keep.

use axum::response::{IntoResponse, Response};

use super::ApiError;

/// The last value of a query parameter.
pub(super) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(super) fn number(
    params: &[(String, String)],
    name: &str,
    default: usize,
) -> Result<usize, ApiError> {
    match param(params, name).map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            ApiError::bad_request(format!("`{name}` must be a whole number, got {v:?}"))
        }),
    }
}

/// A yes/no query parameter: `1`, `true`, `yes` or `0`, `false`, `no`.
pub(super) fn flag(
    params: &[(String, String)],
    name: &str,
    default: bool,
) -> Result<bool, ApiError> {
    match param(params, name).map(str::trim) {
        None | Some("") => Ok(default),
        Some("1" | "true" | "yes") => Ok(true),
        Some("0" | "false" | "no") => Ok(false),
        Some(v) => Err(ApiError::bad_request(format!(
            "`{name}` must be true or false, got {v:?}"
        ))),
    }
}

/// An answer no cache may keep: it carries a search id (a cached copy would hide the
/// searches from the metrics) and, for agents, links that may come from the request's
/// `Host`.
pub(super) fn not_stored(r: impl IntoResponse) -> Response {
    (
        [(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        )],
        r,
    )
        .into_response()
}
