//! Files on this device that may be the same person as the one being typed (the
//! new-file form) or edited (the case view): a warning with a link to open each. It
//! never blocks: the cadre may still create or keep the file, and the office merges
//! real duplicates later. The matching itself is `device::duplicates`.

use leptos::prelude::*;
use shared::dedup::Reason;
use shared::model::CaseFile;
use shared::sync::DocId;

use crate::device::duplicates::{Duplicate, files_like};
use crate::i18n::{show_date, tr};
use crate::model::{Screen, go, use_ui};

fn reason_label(r: Reason) -> &'static str {
    tr(r.label_vi(), r.label_en())
}

/// The warning for the person `probe` (None: nothing to compare yet); `except` is the
/// file being edited.
#[component]
pub fn DuplicateWarning(
    #[prop(into)] probe: Signal<Option<CaseFile>>,
    #[prop(optional)] except: Option<DocId>,
) -> impl IntoView {
    let u = use_ui();
    // Follows only the person, not every edit of the file.
    let probe = Memo::new(move |_| probe.get());
    let found = Memo::new(move |_| {
        let Some(p) = probe.get() else {
            return Vec::new();
        };
        u.rows
            .with(|rows| files_like(&p, rows.iter().map(|r| (&r.id, &r.s)), except.as_ref()))
    });
    let branch_name = move |org: &str| {
        u.orgs.with(|o| {
            o.iter()
                .find(|x| x.id == org)
                .map(|x| x.name.clone())
                .unwrap_or_else(|| org.to_string())
        })
    };
    let item = move |d: Duplicate| {
        let href = format!("#/c/{}", d.id);
        let id = d.id.clone();
        let born = d
            .birth_date
            .map(|b| format!(" · {}", show_date(Some(b))))
            .unwrap_or_default();
        view! {
            <li data-id=d.id.to_string()>
                <span class="name">{d.name.clone()}</span>
                <span class="meta">{born} " · " {branch_name(&d.org_id)} " · " {reason_label(d.reason)}</span>
                " "
                <a href=href data-testid="open-duplicate"
                    on:click=move |ev| { ev.prevent_default(); go(Screen::Case(id.clone())); }>
                    {tr("Mở hồ sơ này", "Open this file")}
                </a>
            </li>
        }
    };
    move || {
        let list = found.get();
        (!list.is_empty()).then(|| {
            view! {
                <div class="duplicates" role="status" data-testid="duplicates">
                    <strong>{tr(
                        "Trên máy đã có hồ sơ có thể của cùng một người:",
                        "This device already holds files that may be the same person:")}</strong>
                    <ul>{list.into_iter().map(item).collect_view()}</ul>
                    <small>{tr(
                        "Nếu đúng là một người, hãy mở hồ sơ đã có thay vì lập hồ sơ mới. Nếu không, cứ tiếp tục.",
                        "If it is the same person, open the existing file instead of a new one. If not, carry on.")}</small>
                </div>
            }
        })
    }
}
