//! The body of every API error (`api::ApiError` renders it).

use serde::Serialize;
use utoipa::ToSchema;

/// `{"error":{"code","message","message_ko"}}`, plus `position` for a condition that does not
/// parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `invalid_code`, `not_found`, `upstream_unavailable`.
    pub code: String,
    pub message: String,
    pub message_ko: String,
    /// For a condition that does not parse: the 0-based character offset of the mistake.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub position: Option<usize>,
    /// For a condition with an unknown name close to a known one: that name (`정배열` for
    /// `정배얼`), for a "did you mean" the UI can offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub suggestion: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_only_for_a_condition_that_does_not_parse() {
        let detail = |position| ErrorBody {
            error: ErrorDetail {
                code: "invalid_condition".into(),
                message: "m".into(),
                message_ko: "k".into(),
                position,
                suggestion: None,
            },
        };
        assert_eq!(
            serde_json::to_string(&detail(None)).unwrap(),
            r#"{"error":{"code":"invalid_condition","message":"m","message_ko":"k"}}"#
        );
        assert!(
            serde_json::to_string(&detail(Some(13)))
                .unwrap()
                .ends_with(r#""position":13}}"#)
        );
    }
}
