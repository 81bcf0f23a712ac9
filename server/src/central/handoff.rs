//! The hand-off page: a reviewer uploads a file a device wrote when it had no network
//! ("Xuất bàn giao" in the app), and sees what the server accepted and refused. The
//! file is applied as a sync from that device (`crate::handoff`).

use std::sync::Arc;

use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{Reviewer, esc, page, run_page};
use crate::AppState;
use crate::error::AppError;
use crate::handoff;
use crate::reports::url_encode;

fn upload_form(r: &Reviewer) -> String {
    let l = r.lang;
    // The form token travels in the query: a multipart body is read after the check.
    format!(
        r#"<p>{help}</p><form method="post" action="/central/handoff?csrf={csrf}" enctype="multipart/form-data" class="filters stacked">
<label>{file}<input type="file" name="file" accept=".json,application/json" required></label><button>{go}</button></form>"#,
        help = esc(l.t(
            "Khi một thiết bị không có mạng lâu ngày, cán bộ bấm \"Xuất bàn giao\" trong ứng dụng và gửi tệp cho văn phòng. Tệp đã được mã hóa cho máy chủ này. Máy chủ nhận các thay đổi trong tệp như khi thiết bị đó đồng bộ: cùng tác giả, cùng phạm vi, cùng kiểm tra. Tải cùng một tệp hai lần, hoặc thiết bị đồng bộ sau đó, không tạo thay đổi trùng.",
            "When a device has had no network for a long time, the cadre taps \"Export hand-off\" in the app and gives the file to the office. The file is encrypted for this server. The server takes its changes as it would from that device's sync: same authorship, same scope, same checks. Uploading the same file twice, or the device syncing later, makes no duplicate."
        )),
        csrf = esc(&url_encode(r.csrf_token())),
        file = esc(l.t("Tệp bàn giao", "Hand-off file")),
        go = esc(l.t("Tải lên và áp dụng", "Upload and apply")),
    )
}

pub async fn show(r: Reviewer) -> Response {
    let l = r.lang;
    let body = upload_form(&r);
    page(
        &r,
        l.t("Nhận tệp bàn giao", "Receive a hand-off file"),
        "handoff",
        &body,
    )
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct UploadQuery {
    csrf: String,
}

pub async fn upload(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Query(q): Query<UploadQuery>,
    mut form: Multipart,
) -> Response {
    if let Some(resp) = r.refuse_bad_csrf(&q.csrf) {
        return resp;
    }
    let bytes = match super::uploaded_file(&mut form, r.lang).await {
        Ok(b) => b,
        Err(page) => return page,
    };
    let lang = r.lang;
    run_page(lang, move || {
        let l = r.lang;
        let title = l.t("Nhận tệp bàn giao", "Receive a hand-off file");
        let mut h = String::new();
        match handoff::apply(&state, &r.caller, &bytes) {
            Err(AppError::User {
                message_vi,
                message_en,
                ..
            }) => {
                h.push_str(&format!(
                    r#"<p class="err" role="alert" id="handoff-refused">{}</p>"#,
                    esc(l.t(&message_vi, &message_en))
                ));
            }
            Err(e) => return Err(e),
            Ok(out) => {
                h.push_str(&format!(
                    r#"<p id="handoff-summary">{}</p>"#,
                    esc(&if l.en {
                        format!(
                            "File from {} ({}), device {}: {} case files accepted, {} refused.",
                            out.display_name,
                            out.username,
                            out.device_id,
                            out.accepted.len(),
                            out.rejected.len()
                        )
                    } else {
                        format!(
                            "Tệp của {} ({}), thiết bị {}: nhận {} hồ sơ, từ chối {} hồ sơ.",
                            out.display_name,
                            out.username,
                            out.device_id,
                            out.accepted.len(),
                            out.rejected.len()
                        )
                    })
                ));
                h.push_str(&format!(
                    "<table><tr><th>{}</th><th>{}</th></tr>",
                    esc(l.t("Hồ sơ", "Case file")),
                    esc(l.t("Kết quả", "Result"))
                ));
                for id in &out.accepted {
                    h.push_str(&format!(
                        r#"<tr class="accepted"><td><a href="/central/cases/{id}">{id}</a></td><td class="ok">{}</td></tr>"#,
                        esc(l.t("Đã nhận", "Accepted")),
                        id = esc(id.as_str()),
                    ));
                }
                for rej in &out.rejected {
                    h.push_str(&format!(
                        r#"<tr class="refused"><td>{}</td><td class="bad">{} ({})</td></tr>"#,
                        esc(rej.doc_id.as_str()),
                        esc(l.t(&rej.message_vi, &rej.message_en)),
                        esc(&rej.code),
                    ));
                }
                h.push_str("</table>");
            }
        }
        h.push_str(&upload_form(&r));
        Ok(page(&r, title, "handoff", &h))
    })
    .await
}
