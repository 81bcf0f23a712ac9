//! The server's HTTP API over `fetch`: JSON in and out, errors in the server's
//! bilingual shape, and a clear split between "no connection" (retry later, nothing is
//! wrong) and an answer from the server (show it).

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

pub use crate::device::reference::{Reference, Session};
use crate::i18n::tr_s;
use shared::api::{ErrorBody, ErrorCode};
pub use shared::api::{LoginRequest, LoginResponse};

/// A request taking longer than this is treated as a cut connection; the sync resumes.
const TIMEOUT_MS: u32 = 60_000;

#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// No answer: offline, the server is down, or the connection was cut.
    Offline,
    /// The server answered with an error, or an answer could not be used (then `status`
    /// is 0 or the HTTP status, and `code` one of the client's own, an `ErrorCode::Other`).
    Server {
        status: u16,
        code: ErrorCode,
        message_vi: String,
        message_en: String,
    },
}

impl ApiError {
    /// The error's code; none when the server was not reached.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            ApiError::Offline => None,
            ApiError::Server { code, .. } => Some(code),
        }
    }

    pub fn message(&self) -> String {
        let (vi, en) = self.messages();
        tr_s(&vi, &en)
    }

    /// The message in both languages (Vietnamese, English).
    pub fn messages(&self) -> (String, String) {
        match self {
            ApiError::Offline => (
                "Không kết nối được máy chủ. Dữ liệu vẫn được lưu trên máy này.".into(),
                "Cannot reach the server. Your data stays saved on this device.".into(),
            ),
            ApiError::Server {
                message_vi,
                message_en,
                ..
            } => (message_vi.clone(), message_en.clone()),
        }
    }
}

pub async fn get<R: DeserializeOwned>(path: &str, token: Option<&str>) -> Result<R, ApiError> {
    let text = send("GET", path, token, None).await?;
    serde_json::from_str(&text).map_err(|e| bad_answer(&e))
}

pub async fn post<B: Serialize, R: DeserializeOwned>(
    path: &str,
    token: Option<&str>,
    body: &B,
) -> Result<R, ApiError> {
    let body = serde_json::to_string(body).map_err(|e| bad_answer(&e))?;
    let text = send("POST", path, token, Some(body)).await?;
    if text.trim().is_empty() {
        return serde_json::from_str("null").map_err(|e| bad_answer(&e));
    }
    serde_json::from_str(&text).map_err(|e| bad_answer(&e))
}

fn bad_answer(e: &dyn std::fmt::Display) -> ApiError {
    ApiError::Server {
        status: 0,
        code: ErrorCode::Other("BAD_ANSWER".into()),
        message_vi: format!("Máy chủ trả lời không đọc được: {e}"),
        message_en: format!("Unreadable answer from the server: {e}"),
    }
}

/// Sync bodies at least this long go gzip-compressed when the browser can compress: they
/// are base64 inside JSON and shrink to about a third, which matters over 2G links.
const COMPRESS_FROM: usize = 512;

// The browser's streams, bound here because web-sys marks `CompressionStream` unstable.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = CompressionStream)]
    type GzipStream;
    #[wasm_bindgen(constructor, js_class = "CompressionStream", catch)]
    fn new(format: &str) -> Result<GzipStream, JsValue>;

    #[wasm_bindgen(js_name = Blob)]
    type TextBlob;
    #[wasm_bindgen(constructor, js_class = "Blob", catch)]
    fn new(parts: &js_sys::Array) -> Result<TextBlob, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn stream(this: &TextBlob) -> Result<ByteStream, JsValue>;

    type ByteStream;
    #[wasm_bindgen(method, js_name = pipeThrough, catch)]
    fn pipe_through(this: &ByteStream, through: &GzipStream) -> Result<ByteStream, JsValue>;

    #[wasm_bindgen(js_name = Response)]
    type StreamResponse;
    #[wasm_bindgen(constructor, js_class = "Response", catch)]
    fn new(body: &ByteStream) -> Result<StreamResponse, JsValue>;
    #[wasm_bindgen(method, js_name = arrayBuffer, catch)]
    fn array_buffer(this: &StreamResponse) -> Result<js_sys::Promise, JsValue>;
}

/// The body gzip-compressed by the browser's `CompressionStream`, or `None` where the
/// browser has none (the body then goes as it is; the server takes both).
async fn gzip(body: &str) -> Option<js_sys::Uint8Array> {
    let global = js_sys::global();
    if !js_sys::Reflect::has(&global, &JsValue::from_str("CompressionStream")).unwrap_or(false) {
        return None;
    }
    let parts = js_sys::Array::of1(&JsValue::from_str(body));
    let stream = TextBlob::new(&parts)
        .ok()?
        .stream()
        .ok()?
        .pipe_through(&GzipStream::new("gzip").ok()?)
        .ok()?;
    let buf = JsFuture::from(StreamResponse::new(&stream).ok()?.array_buffer().ok()?)
        .await
        .ok()?;
    Some(js_sys::Uint8Array::new(&buf))
}

async fn send(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<String, ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(TIMEOUT_MS)));
    let mut gzipped = false;
    if let Some(b) = &body {
        // Only the sync endpoint takes compressed bodies; the other requests are small.
        let compressed = if path == "/api/sync" && b.len() >= COMPRESS_FROM {
            gzip(b).await
        } else {
            None
        };
        match compressed {
            Some(bytes) => {
                init.set_body(&bytes);
                gzipped = true;
            }
            None => init.set_body(&JsValue::from_str(b)),
        }
    }
    let req = Request::new_with_str_and_init(path, &init).map_err(|_| ApiError::Offline)?;
    let headers = req.headers();
    let _ = headers.set("Accept", "application/json");
    if body.is_some() {
        let _ = headers.set("Content-Type", "application/json");
    }
    if gzipped {
        let _ = headers.set("Content-Encoding", "gzip");
    }
    if let Some(t) = token {
        let _ = headers.set("Authorization", &format!("Bearer {t}"));
    }
    let window = web_sys::window().ok_or(ApiError::Offline)?;
    let resp: Response = JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(|_| ApiError::Offline)?
        .dyn_into()
        .map_err(|_| ApiError::Offline)?;
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .map_err(|_| ApiError::Offline)?
            .as_string()
            .unwrap_or_default(),
        Err(_) => return Err(ApiError::Offline),
    };
    if resp.ok() {
        return Ok(text);
    }
    let status = resp.status();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(b) => ApiError::Server {
            status,
            code: b.error.code,
            message_vi: b.error.message_vi,
            message_en: b.error.message_en,
        },
        // No JSON error body: a proxy or a server that is starting; retry like offline.
        Err(_) if status >= 500 => ApiError::Offline,
        Err(_) => ApiError::Server {
            status,
            code: ErrorCode::Other(format!("HTTP_{status}")),
            message_vi: format!("Lỗi máy chủ (HTTP {status})."),
            message_en: format!("Server error (HTTP {status})."),
        },
    })
}
