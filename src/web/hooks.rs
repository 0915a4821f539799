//! `POST /api/hooks/git`: the git host says the followed branch moved, and kb pulls now
//! instead of at the next interval (`kb serve --git`).
//!
//! A hook is believed only when signed with `KB_GIT_WEBHOOK_SECRET`: GitHub's (and Gitea's,
//! Forgejo's) `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, or GitLab's
//! `X-Gitlab-Token` equal to the secret, both compared in constant time. A missing or wrong
//! signature gets `401` and nothing is fetched; without a configured secret (or without
//! `--git`) the route answers `404`. The body is read only to check its signature, streamed
//! into the HMAC (at most [`MAX_HOOK_BODY`]): what it says is not used, since a pull fetches
//! whatever the branch is when it runs, and hooks that arrive during a pull make one more
//! pull, not one each. Each address may send 30 hooks, then one every 2 s (`429`): plenty for
//! a git host, and it bounds the work of a flood and the pace of someone guessing the
//! secret.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::client::Client;
use super::{ApiError, AppState};

/// The largest hook body read (GitHub's push payloads are far smaller; a larger one is
/// refused, and the next interval pull picks the change up).
pub const MAX_HOOK_BODY: usize = 4 << 20;

/// GitHub's signature header.
const GITHUB_SIGNATURE: &str = "x-hub-signature-256";
/// GitLab's token header.
const GITLAB_TOKEN: &str = "x-gitlab-token";

/// Why a hook is not believed.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    Unsigned,
    WrongSignature,
    Malformed,
}

impl Refused {
    /// What the sender is told.
    fn message(&self) -> &'static str {
        match self {
            Refused::Unsigned => {
                "sign the hook: `X-Hub-Signature-256` (GitHub) or `X-Gitlab-Token` (GitLab) with KB_GIT_WEBHOOK_SECRET"
            }
            Refused::WrongSignature => "the hook's signature is not right",
            Refused::Malformed => "`X-Hub-Signature-256` must be `sha256=` and 64 hex digits",
        }
    }
}

/// `POST /api/hooks/git`.
pub async fn git(
    State(state): State<Arc<AppState>>,
    client: Client,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(secret) = state.config.git_webhook_secret.as_deref() else {
        return ApiError::not_found(
            "no such route: set KB_GIT_WEBHOOK_SECRET (with `kb serve --git`) to receive git hooks",
        )
        .into_response();
    };
    if !state.hooks_limit.allow(&client.key()) {
        return super::events::too_many("hooks");
    }
    let checked = if let Some(signature) = headers.get(GITHUB_SIGNATURE) {
        verify_github(secret.as_bytes(), signature, body).await
    } else if let Some(token) = headers.get(GITLAB_TOKEN) {
        verify_gitlab(secret.as_bytes(), token)
    } else {
        Ok(Err(Refused::Unsigned))
    };
    let refused = match checked {
        Ok(Ok(())) => None,
        Ok(Err(refused)) => Some(refused),
        Err(e) => return e.into_response(),
    };
    if let Some(refused) = refused {
        tracing::warn!(
            "git hook from {} refused: {}",
            client.key(),
            refused.message()
        );
        let mut response = ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: refused.message().into(),
        }
        .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("HMAC realm=\"kb git hook\""),
        );
        return response;
    }
    let Some(follower) = state.git() else {
        return ApiError::unavailable("the articles are still being cloned; try again in a moment")
            .into_response();
    };
    follower.request_pull();
    let mut response = (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "status": "accepted" })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Checks GitHub's signature of the body, reading it as it streams in.
async fn verify_github(
    secret: &[u8],
    signature: &HeaderValue,
    body: Body,
) -> Result<Result<(), Refused>, ApiError> {
    let Some(expected) = signature
        .to_str()
        .ok()
        .and_then(|s| s.trim().strip_prefix("sha256="))
        .and_then(hex_32)
    else {
        return Ok(Err(Refused::Malformed));
    };
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .expect("HMAC takes a key of any length");
    let mut stream = body.into_data_stream();
    let mut read = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            if super::events::body_too_slow(&e) {
                ApiError::too_slow()
            } else {
                ApiError::bad_request(format!("cannot read the body: {e}"))
            }
        })?;
        read += chunk.len();
        if read > MAX_HOOK_BODY {
            return Err(ApiError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                message: format!(
                    "the body is larger than {MAX_HOOK_BODY} bytes; the next interval pull will pick the change up"
                ),
            });
        }
        mac.update(&chunk);
    }
    Ok(mac
        .verify_slice(&expected)
        .map_err(|_| Refused::WrongSignature))
}

/// Checks GitLab's token: equal to the secret (their hashes are compared, in constant time,
/// so not even the secret's length shows).
fn verify_gitlab(secret: &[u8], token: &HeaderValue) -> Result<Result<(), Refused>, ApiError> {
    let same: bool = Sha256::digest(token.as_bytes())
        .ct_eq(&Sha256::digest(secret))
        .into();
    Ok(if same {
        Ok(())
    } else {
        Err(Refused::WrongSignature)
    })
}

/// 64 hex digits as 32 bytes.
fn hex_32(text: &str) -> Option<[u8; 32]> {
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (i, pair) in text.chunks(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's own example: <https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries>.
    const SECRET: &str = "It's a Secret to Everybody";
    const PAYLOAD: &str = "Hello, World!";
    const SIGNATURE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    async fn github(signature: &str, body: &str) -> Result<(), Refused> {
        verify_github(
            SECRET.as_bytes(),
            &HeaderValue::from_str(signature).unwrap(),
            Body::from(body.to_string()),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn githubs_example_signature_is_believed_and_nothing_else() {
        assert_eq!(github(SIGNATURE, PAYLOAD).await, Ok(()));
        assert_eq!(
            github(
                &SIGNATURE.to_uppercase().replace("SHA256", "sha256"),
                PAYLOAD
            )
            .await,
            Ok(())
        );
        assert_eq!(
            github(SIGNATURE, "Hello, World?").await,
            Err(Refused::WrongSignature)
        );
        let mut flipped = SIGNATURE.to_string();
        flipped.replace_range(70.., "6");
        assert_eq!(
            github(&flipped, PAYLOAD).await,
            Err(Refused::WrongSignature)
        );
        for malformed in [
            "",
            "sha256=",
            "sha1=757107ea0eb2509fc211221cce984b8a37570b6d",
            "sha256=zz",
        ] {
            assert_eq!(
                github(malformed, PAYLOAD).await,
                Err(Refused::Malformed),
                "{malformed}"
            );
        }
    }

    #[test]
    fn gitlabs_token_must_be_the_secret() {
        let check =
            |t: &str| verify_gitlab(SECRET.as_bytes(), &HeaderValue::from_str(t).unwrap()).unwrap();
        assert_eq!(check(SECRET), Ok(()));
        assert_eq!(
            check("It's a Secret to Everybod"),
            Err(Refused::WrongSignature)
        );
        assert_eq!(check(""), Err(Refused::WrongSignature));
    }
}
