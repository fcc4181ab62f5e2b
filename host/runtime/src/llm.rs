//! The host side of `qlp:llm/chat`: chat completions against the one
//! OpenAI-compatible endpoint the operator configured (`[llm]` in the
//! tiers file).
//!
//! The host holds the endpoint's address and key; a plugin sends messages
//! and options and gets text and token counts back. Every call is bounded:
//! the models the operator allowed, a most tokens per call, a budget per
//! intent shared by every call of its run, the endpoint's timeout and the
//! call's own deadline, whichever ends first.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::bindings::llm::qlp::llm::chat::{Completion, Error, Message, Options, Role, Usage};
use super::http;
use super::text::{mask, sanitize};

/// Messages one completion may carry.
pub const MAX_MESSAGES: usize = 256;

/// Bytes of message text one completion may carry.
pub const MAX_PROMPT_BYTES: usize = 1 << 20;

/// Completions one plugin call may ask for.
pub const MAX_COMPLETIONS_PER_CALL: u32 = 32;

/// The endpoint the operator configured, with its limits.
pub struct Endpoint {
    /// The API's base URL, e.g. `http://127.0.0.1:8081/v1`; completions go
    /// to `{url}/chat/completions`.
    pub url: String,
    /// Sent as `Authorization: Bearer …`; never shown to a plugin.
    pub api_key: Option<String>,
    /// The models plugins may ask for; the first is the default.
    pub models: Vec<String>,
    pub max_tokens_per_call: u32,
    pub max_tokens_per_intent: u64,
    /// The longest one completion may take.
    pub timeout: Duration,
    /// The endpoint's host and port, and the addresses its name had when
    /// the operator configured it: the endpoint is reached even on a
    /// private address, and nothing else is.
    pub destination: http::Grant,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("models", &self.models)
            .field("max_tokens_per_call", &self.max_tokens_per_call)
            .field("max_tokens_per_intent", &self.max_tokens_per_intent)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The tokens an intent may still spend, shared by every call of its run.
#[derive(Debug)]
pub struct Budget {
    left: AtomicU64,
    /// Why nothing is left when the limit that binds is not the intent's
    /// own budget: "the tenant's daily quota of 5000 tokens is spent".
    spent_why: Option<String>,
}

impl Budget {
    pub fn new(tokens: u64) -> Self {
        Self {
            left: AtomicU64::new(tokens),
            spent_why: None,
        }
    }

    /// A budget of `tokens` set by another limit than the intent's, which
    /// `why` names once it is spent.
    pub fn capped(tokens: u64, why: String) -> Self {
        Self {
            left: AtomicU64::new(tokens),
            spent_why: Some(why),
        }
    }

    pub fn left(&self) -> u64 {
        self.left.load(Ordering::Relaxed)
    }

    fn spend(&self, tokens: u64) {
        let _ = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                Some(left.saturating_sub(tokens))
            });
    }
}

/// A call's access to the endpoint, given when the operator granted the
/// plugin `llm = true`.
#[derive(Debug, Clone)]
pub struct Grant {
    pub endpoint: Arc<Endpoint>,
    pub budget: Arc<Budget>,
}

/// What one plugin call spent: recorded on its stage.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Spent {
    pub completions: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Asks the endpoint for one completion under `grant`'s limits, by
/// `deadline` at the latest. `spent` counts the tokens charged.
pub fn complete(
    grant: &Grant,
    messages: Vec<Message>,
    options: Options,
    deadline: Instant,
    spent: &mut Spent,
) -> Result<Completion, Error> {
    let endpoint = &*grant.endpoint;
    if spent.completions >= MAX_COMPLETIONS_PER_CALL {
        return Err(Error::LimitExceeded(format!(
            "over {MAX_COMPLETIONS_PER_CALL} completions in one call"
        )));
    }
    let prompt_bytes = check_messages(&messages)?;
    let temperature = match options.temperature {
        Some(t) if !(0.0..=2.0).contains(&t) => {
            return Err(Error::InvalidInput(format!(
                "temperature {t} is not between 0.0 and 2.0"
            )));
        }
        t => t,
    };
    let model = match options.model {
        None => endpoint.models[0].clone(),
        Some(m) if endpoint.models.contains(&m) => m,
        Some(m) => {
            return Err(Error::NotGranted(format!(
                "model `{}` is not allowed; allowed: {}",
                sanitize(&m, 128),
                endpoint.models.join(", ")
            )));
        }
    };
    let left = grant.budget.left();
    if left == 0 {
        return Err(Error::LimitExceeded(
            grant.budget.spent_why.clone().unwrap_or_else(|| {
                format!(
                    "the intent's budget of {} tokens is spent",
                    endpoint.max_tokens_per_intent
                )
            }),
        ));
    }
    let max_tokens = match options.max_tokens {
        Some(0) => return Err(Error::InvalidInput("max-tokens is 0".into())),
        Some(n) => n.min(endpoint.max_tokens_per_call),
        None => endpoint.max_tokens_per_call,
    }
    .min(u32::try_from(left).unwrap_or(u32::MAX));

    let mut body = json!({
        "model": model,
        "messages": messages
            .iter()
            .map(|m| json!({"role": role_name(m.role), "content": m.content}))
            .collect::<Vec<_>>(),
        "max_tokens": max_tokens,
        "stream": false,
    });
    if let Some(t) = temperature {
        body["temperature"] = json!(t);
    }
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("Accept".to_owned(), "application/json".to_owned()),
    ];
    if let Some(key) = &endpoint.api_key {
        headers.push(("Authorization".to_owned(), format!("Bearer {key}")));
    }
    let request = http::Request {
        method: "POST".into(),
        url: format!("{}/chat/completions", endpoint.url.trim_end_matches('/')),
        headers,
        body: body.to_string().into_bytes(),
    };
    spent.completions += 1;
    let secrets: Vec<String> = endpoint.api_key.iter().cloned().collect();
    let unavailable = |why: String| Error::Unavailable(mask(&why, &secrets));
    let deadline = deadline.min(Instant::now() + endpoint.timeout);
    let response = http::fetch_until(&endpoint.destination, request, deadline)
        .map_err(|e| unavailable(e.into()))?;
    if !(200..300).contains(&response.status) {
        // The endpoint answered: what it asked for still counts, as the
        // prompt was read.
        charge(grant, spent, estimate_tokens(prompt_bytes), 0);
        return Err(unavailable(format!(
            "the model endpoint answered {}: {}",
            response.status,
            error_text(&response.body)
        )));
    }
    let parsed = parse_completion(&response.body, &model).map_err(unavailable)?;
    // An endpoint that does not report usage is charged what could have
    // been used: the prompt's estimate and every token allowed.
    let (prompt, completion) = match parsed.usage {
        Some(u) => u,
        None => (estimate_tokens(prompt_bytes), u64::from(max_tokens)),
    };
    charge(grant, spent, prompt, completion);
    Ok(Completion {
        text: parsed.text,
        model: parsed.model,
        usage: Usage {
            prompt_tokens: u32::try_from(prompt).unwrap_or(u32::MAX),
            completion_tokens: u32::try_from(completion).unwrap_or(u32::MAX),
        },
        finish_reason: parsed.finish_reason,
    })
}

/// Takes the tokens off the intent's budget and counts them for the call.
fn charge(grant: &Grant, spent: &mut Spent, prompt: u64, completion: u64) {
    grant.budget.spend(prompt + completion);
    spent.prompt_tokens += prompt;
    spent.completion_tokens += completion;
}

/// The messages' total length, once they are checked.
fn check_messages(messages: &[Message]) -> Result<usize, Error> {
    if messages.is_empty() {
        return Err(Error::InvalidInput("no message".into()));
    }
    if messages.len() > MAX_MESSAGES {
        return Err(Error::InvalidInput(format!(
            "{} messages; at most {MAX_MESSAGES}",
            messages.len()
        )));
    }
    let bytes: usize = messages.iter().map(|m| m.content.len()).sum();
    if bytes > MAX_PROMPT_BYTES {
        return Err(Error::InvalidInput(format!(
            "{bytes} bytes of messages; at most {MAX_PROMPT_BYTES}"
        )));
    }
    Ok(bytes)
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// About four bytes of English or code per token.
fn estimate_tokens(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4)
}

/// A completion as the endpoint reported it.
#[derive(Debug, PartialEq)]
struct Parsed {
    text: String,
    model: String,
    finish_reason: String,
    /// Prompt and completion tokens, when reported.
    usage: Option<(u64, u64)>,
}

/// Reads an OpenAI-style chat completion: the first choice's message.
fn parse_completion(body: &[u8], asked: &str) -> Result<Parsed, String> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the model endpoint's answer is not JSON: {e}"))?;
    let choice = &value["choices"][0];
    let text = choice["message"]["content"]
        .as_str()
        .ok_or("the model endpoint's answer has no `choices[0].message.content`")?
        .to_owned();
    let usage = &value["usage"];
    let usage = match (
        usage["prompt_tokens"].as_u64(),
        usage["completion_tokens"].as_u64(),
    ) {
        (Some(p), Some(c)) => Some((p, c)),
        _ => None,
    };
    Ok(Parsed {
        text,
        model: value["model"]
            .as_str()
            .map_or_else(|| asked.to_owned(), |m| sanitize(m, 128)),
        finish_reason: choice["finish_reason"]
            .as_str()
            .map_or_else(|| "stop".to_owned(), |r| sanitize(r, 32)),
        usage,
    })
}

/// The endpoint's own words on an error: `error.message` of an OpenAI-style
/// error, else the start of the body.
fn error_text(body: &[u8]) -> String {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    sanitize(&message, 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completion_is_read_with_its_usage() {
        let body = br#"{"id":"x","model":"coder-7b","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#;
        assert_eq!(
            parse_completion(body, "asked").unwrap(),
            Parsed {
                text: "hello".into(),
                model: "coder-7b".into(),
                finish_reason: "length".into(),
                usage: Some((12, 3)),
            }
        );
    }

    #[test]
    fn a_completion_without_usage_or_model_keeps_what_was_asked() {
        let body = br#"{"choices":[{"message":{"content":"hi"}}]}"#;
        let parsed = parse_completion(body, "asked").unwrap();
        assert_eq!(
            (
                parsed.model.as_str(),
                parsed.finish_reason.as_str(),
                parsed.usage
            ),
            ("asked", "stop", None)
        );
    }

    #[test]
    fn an_answer_that_is_not_a_completion_is_refused() {
        for body in [
            &b"not json"[..],
            br#"{"choices":[]}"#,
            br#"{"choices":[{"message":{"content":7}}]}"#,
        ] {
            assert!(parse_completion(body, "m").is_err(), "{body:?}");
        }
    }

    #[test]
    fn error_text_prefers_the_openai_error_message() {
        assert_eq!(
            error_text(br#"{"error":{"message":"model overloaded","type":"server_error"}}"#),
            "model overloaded"
        );
        assert_eq!(error_text(b"Bad\ngateway"), "Bad gateway");
    }

    #[test]
    fn the_budget_never_goes_below_zero() {
        let budget = Budget::new(10);
        budget.spend(4);
        assert_eq!(budget.left(), 6);
        budget.spend(100);
        assert_eq!(budget.left(), 0);
    }

    fn endpoint(models: &[&str]) -> Grant {
        Grant {
            endpoint: Arc::new(Endpoint {
                // Nothing listens on port 9 of a listed loopback address.
                url: "http://127.0.0.1:9/v1".into(),
                api_key: Some("sk-secret-key".into()),
                models: models.iter().map(|m| (*m).to_owned()).collect(),
                max_tokens_per_call: 100,
                max_tokens_per_intent: 1000,
                timeout: Duration::from_secs(2),
                destination: http::Grant {
                    allowed: vec!["127.0.0.1:9".parse().unwrap()],
                },
            }),
            budget: Arc::new(Budget::new(1000)),
        }
    }

    fn user(text: &str) -> Vec<Message> {
        vec![Message {
            role: Role::User,
            content: text.into(),
        }]
    }

    fn ask(grant: &Grant, messages: Vec<Message>, options: Options) -> Result<Completion, Error> {
        let deadline = Instant::now() + Duration::from_secs(2);
        complete(grant, messages, options, deadline, &mut Spent::default())
    }

    fn options() -> Options {
        Options {
            model: None,
            max_tokens: None,
            temperature: None,
        }
    }

    #[test]
    fn requests_outside_the_limits_are_refused_before_anything_is_sent() {
        let grant = endpoint(&["coder"]);
        let refused = |r: Result<Completion, Error>| match r {
            Err(Error::InvalidInput(m)) => format!("invalid: {m}"),
            Err(Error::NotGranted(m)) => format!("not granted: {m}"),
            Err(Error::LimitExceeded(m)) => format!("limit: {m}"),
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert!(refused(ask(&grant, vec![], options())).starts_with("invalid"));
        let too_many = (0..=MAX_MESSAGES).flat_map(|_| user("x")).collect();
        assert!(refused(ask(&grant, too_many, options())).starts_with("invalid"));
        let too_long = user(&"x".repeat(MAX_PROMPT_BYTES + 1));
        assert!(refused(ask(&grant, too_long, options())).starts_with("invalid"));
        let hot = Options {
            temperature: Some(2.5),
            ..options()
        };
        assert!(refused(ask(&grant, user("hi"), hot)).starts_with("invalid"));
        let zero = Options {
            max_tokens: Some(0),
            ..options()
        };
        assert!(refused(ask(&grant, user("hi"), zero)).starts_with("invalid"));
        let other = Options {
            model: Some("gpt-huge".into()),
            ..options()
        };
        let message = refused(ask(&grant, user("hi"), other));
        assert!(
            message.contains("gpt-huge") && message.contains("coder"),
            "{message}"
        );
        grant.budget.spend(1000);
        assert!(refused(ask(&grant, user("hi"), options())).starts_with("limit"));
    }

    #[test]
    fn a_call_asks_for_a_bounded_number_of_completions() {
        let grant = endpoint(&["coder"]);
        let mut spent = Spent {
            completions: MAX_COMPLETIONS_PER_CALL,
            ..Spent::default()
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        let r = complete(&grant, user("hi"), options(), deadline, &mut spent);
        assert!(matches!(r, Err(Error::LimitExceeded(_))), "{r:?}");
    }

    #[test]
    fn an_unreachable_endpoint_is_unavailable_and_its_key_never_shown() {
        let grant = endpoint(&["other", "coder"]);
        // Within every limit: an allowed model that is not the default, a
        // temperature in range, a cap under the call's. The request is
        // sent, and the endpoint is not there.
        for options in [
            options(),
            Options {
                model: Some("coder".into()),
                max_tokens: Some(50),
                temperature: Some(0.0),
            },
            Options {
                temperature: Some(2.0),
                ..options()
            },
        ] {
            match ask(&grant, user("hi"), options) {
                Err(Error::Unavailable(m)) => assert!(!m.contains("sk-secret-key"), "{m}"),
                other => panic!("expected unavailable, got {other:?}"),
            }
        }
        let mut spent = Spent::default();
        let deadline = Instant::now() + Duration::from_secs(2);
        let _ = complete(&grant, user("hi"), options(), deadline, &mut spent);
        assert_eq!(spent.completions, 1, "a sent request counts");
        assert_eq!(
            grant.budget.left(),
            1000,
            "nothing answered, nothing charged"
        );
    }

    /// A server on loopback answering `count` requests with `status` and
    /// `body`, each after reading the whole request; its port.
    fn answering(status: u16, body: &'static str, count: usize) -> u16 {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(count) {
                let mut stream = stream.unwrap();
                let mut request = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = stream.read(&mut chunk).unwrap();
                    request.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                        let length: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        if rest.len() >= length {
                            break;
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(response.as_bytes()).unwrap();
            }
        });
        port
    }

    fn served(port: u16) -> Grant {
        Grant {
            endpoint: Arc::new(Endpoint {
                url: format!("http://127.0.0.1:{port}/v1"),
                api_key: None,
                models: vec!["coder".into()],
                max_tokens_per_call: 100,
                max_tokens_per_intent: 1000,
                timeout: Duration::from_secs(5),
                destination: http::Grant {
                    allowed: vec![format!("127.0.0.1:{port}").parse().unwrap()],
                },
            }),
            budget: Arc::new(Budget::new(1000)),
        }
    }

    fn ask_spent(grant: &Grant, options: Options) -> (Result<Completion, Error>, Spent) {
        let mut spent = Spent::default();
        let deadline = Instant::now() + Duration::from_secs(5);
        let r = complete(grant, user("hi"), options, deadline, &mut spent);
        (r, spent)
    }

    #[test]
    fn a_completion_is_charged_what_the_endpoint_reports() {
        let grant = served(answering(
            200,
            r#"{"model":"coder","choices":[{"message":{"content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3}}"#,
            1,
        ));
        let (r, spent) = ask_spent(&grant, options());
        let c = r.unwrap();
        assert_eq!(
            (
                c.text.as_str(),
                c.usage.prompt_tokens,
                c.usage.completion_tokens
            ),
            ("hello", 12, 3)
        );
        assert_eq!(
            (
                spent.completions,
                spent.prompt_tokens,
                spent.completion_tokens
            ),
            (1, 12, 3)
        );
        assert_eq!(grant.budget.left(), 1000 - 15);
    }

    #[test]
    fn an_endpoint_without_usage_is_charged_every_token_allowed() {
        let grant = served(answering(
            200,
            r#"{"choices":[{"message":{"content":"hi"}}]}"#,
            1,
        ));
        let fifty = Options {
            max_tokens: Some(50),
            ..options()
        };
        let (r, spent) = ask_spent(&grant, fifty);
        let c = r.unwrap();
        // "hi" is estimated at one token; the answer could have used 50.
        assert_eq!((c.usage.prompt_tokens, c.usage.completion_tokens), (1, 50));
        assert_eq!((spent.prompt_tokens, spent.completion_tokens), (1, 50));
        assert_eq!(grant.budget.left(), 1000 - 51);
    }

    #[test]
    fn an_error_answer_is_unavailable_and_charges_the_prompt_it_read() {
        let grant = served(answering(
            503,
            r#"{"error":{"message":"model overloaded"}}"#,
            1,
        ));
        let (r, spent) = ask_spent(&grant, options());
        match r {
            Err(Error::Unavailable(m)) => {
                assert!(m.contains("503") && m.contains("model overloaded"), "{m}")
            }
            other => panic!("expected unavailable, got {other:?}"),
        }
        assert_eq!((spent.prompt_tokens, spent.completion_tokens), (1, 0));
        assert_eq!(grant.budget.left(), 999);
    }

    #[test]
    fn requests_at_the_limits_are_sent() {
        let grant = endpoint(&["coder"]);
        let at_most = (0..MAX_MESSAGES).flat_map(|_| user("x")).collect();
        let longest = user(&"x".repeat(MAX_PROMPT_BYTES));
        for messages in [at_most, longest] {
            let r = ask(&grant, messages, options());
            assert!(matches!(r, Err(Error::Unavailable(_))), "{r:?}");
        }
    }

    #[test]
    fn the_endpoint_prints_without_its_key() {
        let grant = endpoint(&["coder"]);
        let shown = format!("{:?}", grant.endpoint);
        assert!(
            shown.contains("127.0.0.1:9") && shown.contains("***"),
            "{shown}"
        );
        assert!(!shown.contains("sk-secret-key"), "{shown}");
    }

    #[test]
    fn roles_are_named_as_the_chat_api_names_them() {
        assert_eq!(
            [Role::System, Role::User, Role::Assistant].map(role_name),
            ["system", "user", "assistant"]
        );
        assert_eq!(
            (estimate_tokens(0), estimate_tokens(1), estimate_tokens(8)),
            (0, 1, 2)
        );
    }
}
