//! The demo's own HTML: escaping and a page frame for its sign-in, account
//! and error pages (the consent pages are the library's, `consent::render_page`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oauth1_provider::consent::PAGE_SECURITY_HEADERS;

/// Text made safe for element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    text.chars()
        .fold(String::with_capacity(text.len()), |mut out, c| {
            match c {
                '&' => out += "&amp;",
                '<' => out += "&lt;",
                '>' => out += "&gt;",
                '"' => out += "&quot;",
                '\'' => out += "&#39;",
                c => out.push(c),
            }
            out
        })
}

const DEMO_STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1f2328}\
main{max-width:36rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}\
button{font:inherit;padding:.4rem 1rem;white-space:nowrap;overflow-wrap:normal}input,textarea{font:inherit;padding:.3rem;width:100%;box-sizing:border-box}\
table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.4rem;border-bottom:1px solid #d0d7de;\
overflow-wrap:anywhere;vertical-align:top}code{word-break:break-all}form.inline{display:inline-block;margin:.1rem .2rem .1rem 0}\
.error{color:#d1242f}.muted,.site{color:#656d76}.site{font-size:.85rem}\
.actions{display:flex;gap:.5rem;margin-top:1rem}.button,.primary{display:inline-block;padding:.4rem 1rem;\
border:1px solid #d0d7de;border-radius:6px;text-decoration:none;color:inherit;background:#f6f8fa}\
.primary{background:#1f6feb;color:#fff;border-color:#1f6feb}\
input[type=checkbox],input[type=radio]{width:auto;margin:0 .4rem 0 0}\
label.choice{display:flex;align-items:baseline;margin:.3rem 0}label.choice code{white-space:nowrap;color:#656d76}\
fieldset{margin:1rem 0 0;border:1px solid #d0d7de;border-radius:6px}ul.grants{margin:.3rem 0;padding-left:1.2rem}\
p.grants{margin:.3rem 0}.words,.words th{overflow-wrap:normal}";

/// A whole page: `title` (escaped) and `body_html` (already safe HTML), with
/// the same security headers as the consent pages — no framing, no caching,
/// no referrer — and a 200 unless `status` says otherwise.
pub fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{DEMO_STYLE}</style></head><body><main>{body_html}</main></body></html>\n",
        escape_html(title)
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    for (name, value) in PAGE_SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
