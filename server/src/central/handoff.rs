//! The hand-off page: a reviewer uploads a file a device wrote when it had no network
//! ("Xuất bàn giao" in the app), and sees what the server accepted and refused. The
//! file is applied as a sync from that device (`crate::handoff`).

use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::response::Response;
use serde::Deserialize;

use maud::{Markup, html};

use super::PageQuery;
use super::{Reviewer, page, run_form};
use crate::AppState;
use crate::error::AppError;
use crate::handoff;
use crate::reports::url_encode;

fn upload_form(r: &Reviewer) -> Markup {
    let l = r.lang;
    // The form token travels in the query: a multipart body is read after the check.
    let action = format!("/central/handoff?csrf={}", url_encode(r.csrf_token()));
    html! {
        p { (l.t(
            "Khi một thiết bị không có mạng lâu ngày, cán bộ bấm \"Xuất bàn giao\" trong ứng dụng và gửi tệp cho văn phòng. Tệp đã được mã hóa cho máy chủ này. Máy chủ nhận các thay đổi trong tệp như khi thiết bị đó đồng bộ: cùng tác giả, cùng phạm vi, cùng kiểm tra. Tải cùng một tệp hai lần, hoặc thiết bị đồng bộ sau đó, không tạo thay đổi trùng.",
            "When a device has had no network for a long time, the cadre taps \"Export hand-off\" in the app and gives the file to the office. The file is encrypted for this server. The server takes its changes as it would from that device's sync: same authorship, same scope, same checks. Uploading the same file twice, or the device syncing later, makes no duplicate.",
        )) }
        form method="post" action=(action) enctype="multipart/form-data" class="filters stacked" {
            label { (l.t("Tệp bàn giao", "Hand-off file"))
                input type="file" name="file" accept=".json,application/json" required; }
            button { (l.t("Tải lên và áp dụng", "Upload and apply")) }
        }
    }
}

pub async fn show(r: Reviewer) -> Response {
    let l = r.lang;
    let body = upload_form(&r);
    page(
        &r,
        l.t("Nhận tệp bàn giao", "Receive a hand-off file"),
        "handoff",
        body,
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
    PageQuery(q): PageQuery<UploadQuery>,
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
    run_form(lang, move || {
        let l = r.lang;
        let title = l.t("Nhận tệp bàn giao", "Receive a hand-off file");
        let result = match handoff::apply(&state, &r.caller, &bytes) {
            Err(AppError::User {
                message_vi,
                message_en,
                ..
            }) => html! {
                p.err role="alert" id="handoff-refused" { (l.t(&message_vi, &message_en)) }
            },
            Err(e) => return Err(e),
            Ok(out) => {
                let summary = if l.en {
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
                };
                html! {
                    p id="handoff-summary" { (summary) }
                    table {
                        tr { th { (l.t("Hồ sơ", "Case file")) } th { (l.t("Kết quả", "Result")) } }
                        @for id in &out.accepted {
                            tr.accepted {
                                td { a href={ "/central/cases/" (id.as_str()) } { (id.as_str()) } }
                                td.ok { (l.t("Đã nhận", "Accepted")) }
                            }
                        }
                        @for rej in &out.rejected {
                            tr.refused {
                                td { (rej.doc_id.as_str()) }
                                td.bad { (l.t(&rej.message_vi, &rej.message_en)) " (" (rej.code) ")" }
                            }
                        }
                    }
                }
            }
        };
        let body = html! { (result) (upload_form(&r)) };
        Ok(page(&r, title, "handoff", body))
    })
    .await
}
