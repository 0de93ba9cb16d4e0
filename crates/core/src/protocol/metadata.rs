//! The two metadata documents discovery reads: RFC 9728 protected resource metadata and
//! RFC 8414 / OpenID authorization server metadata.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectedResourceMetadata {
    pub resource: String,
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_metadata_document_supported: Option<bool>,
    /// Sign-in with a code entered on another device (RFC 8628 section 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
}

impl AuthServerMetadata {
    pub fn supports_s256(&self) -> bool {
        self.code_challenge_methods_supported
            .as_ref()
            .is_some_and(|m| m.iter().any(|x| x == "S256"))
    }

    pub fn lists_scope(&self, scope: &str) -> bool {
        self.scopes_supported
            .as_ref()
            .is_some_and(|s| s.iter().any(|x| x == scope))
    }

    pub fn supports_auth_method(&self, method: &str) -> bool {
        match &self.token_endpoint_auth_methods_supported {
            Some(m) => m.iter().any(|x| x == method),
            // RFC 8414 §2: the default is client_secret_basic.
            None => method == "client_secret_basic",
        }
    }

    /// The 2025-03-26 MCP fallback: default endpoints at the server's origin.
    pub fn legacy_defaults(origin: &url::Url) -> Self {
        let at = |p: &str| {
            let mut u = origin.clone();
            u.set_path(p);
            u.set_query(None);
            u.to_string()
        };
        let issuer = origin.origin().ascii_serialization();
        AuthServerMetadata {
            issuer,
            authorization_endpoint: at("/authorize"),
            token_endpoint: at("/token"),
            registration_endpoint: Some(at("/register")),
            revocation_endpoint: None,
            scopes_supported: None,
            code_challenge_methods_supported: Some(vec!["S256".into()]),
            token_endpoint_auth_methods_supported: None,
            grant_types_supported: None,
            authorization_response_iss_parameter_supported: None,
            client_id_metadata_document_supported: None,
            device_authorization_endpoint: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_like_metadata_parses_and_keeps_the_catalogue() {
        let doc = r#"{"issuer":"https://gitlab.example.com","authorization_endpoint":"https://gitlab.example.com/oauth/authorize",
          "token_endpoint":"https://gitlab.example.com/oauth/token","registration_endpoint":"https://gitlab.example.com/oauth/register",
          "scopes_supported":["api","read_api","read_user","create_runner","manage_runner","k8s_proxy","self_rotate","mcp","read_repository","write_repository","read_virtual_registry","write_virtual_registry","read_observability","write_observability","ai_features","sudo","admin_mode","read_service_ping","openid","profile","email","ai_workflows","user:*"],
          "code_challenge_methods_supported":["plain","S256"],"response_types_supported":["code"]}"#;
        let m: AuthServerMetadata = serde_json::from_str(doc).unwrap();
        assert_eq!(m.scopes_supported.as_ref().unwrap().len(), 23);
        assert!(m.supports_s256());
        assert!(m.lists_scope("user:*"));
        assert!(!m.lists_scope("offline_access"));
        assert!(m.supports_auth_method("client_secret_basic"));
        assert!(!m.supports_auth_method("none"));
    }
}
