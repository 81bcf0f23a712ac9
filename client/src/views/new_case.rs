//! Opening a new case file: the name and the branch are enough to start; everything
//! else is recorded in the case view as the file moves through its stages. As the name,
//! birth date and identity-card number are typed, files on the device that may be the
//! same person are listed with a link to open them instead (a warning, never a block).

use leptos::prelude::*;
use shared::model::CaseFile;
use shared::sync::DocId;

use crate::device::duplicates;
use crate::i18n::{parse_vn_date, tr};
use crate::model::{self, Screen, go, random16, use_ui, with};
use crate::views::duplicates::DuplicateWarning;

#[component]
pub fn NewCase() -> impl IntoView {
    let u = use_ui();
    let branches = move || {
        u.orgs.with(|o| {
            o.iter()
                .filter(|o| o.kind == "branch" || o.kind == "sub_branch")
                .map(|o| (o.id.clone(), o.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let name = RwSignal::new(String::new());
    let birth = RwSignal::new(String::new());
    let id_number = RwSignal::new(String::new());
    let org = RwSignal::new(branches().first().map(|b| b.0.clone()).unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    // The person as typed so far; a birth date not complete yet is not compared.
    let probe = Signal::derive(move || {
        Some(duplicates::probe(
            &org.get(),
            &name.get(),
            parse_vn_date(&birth.get()).ok(),
            &id_number.get(),
        ))
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let full_name = name
            .get_untracked()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if full_name.is_empty() {
            error.set(Some(
                tr("Hãy nhập họ và tên.", "Enter the full name.").into(),
            ));
            return;
        }
        let org_id = org.get_untracked();
        if org_id.is_empty() {
            error.set(Some(tr("Hãy chọn chi bộ.", "Choose the branch.").into()));
            return;
        }
        let mut case = CaseFile::default();
        case.person.full_name = full_name;
        case.person.id_number = id_number.get_untracked().trim().to_string();
        case.org_id = org_id;
        let b = birth.get_untracked();
        if !b.trim().is_empty() {
            match parse_vn_date(&b) {
                Ok(d) => case.person.birth_date = Some(d),
                Err(e) => {
                    error.set(Some(crate::i18n::bilingual(e)));
                    return;
                }
            }
        }
        match with(|m| m.create(DocId::from_bytes(random16()), &case)) {
            Ok(id) => {
                model::refresh_rows(std::slice::from_ref(&id));
                model::save_local(vec![id.clone()]);
                go(Screen::Case(id));
            }
            Err(e) => error.set(Some(crate::i18n::bilingual(&e))),
        }
    };
    view! {
        <section class="card">
            <h2>{move || tr("Hồ sơ mới", "New case file")}</h2>
            <form class="new-case" on:submit=submit>
                <label>
                    <span>{move || tr("Họ và tên quần chúng", "Candidate's full name")}</span>
                    <input name="full_name" required autocomplete="off"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <label>
                    <span>{move || tr("Ngày sinh (dd/mm/yyyy)", "Date of birth (dd/mm/yyyy)")}</span>
                    <input name="birth_date" inputmode="numeric" placeholder="dd/mm/yyyy"
                        prop:value=move || birth.get()
                        on:input=move |ev| birth.set(event_target_value(&ev))/>
                </label>
                <label>
                    <span>{move || tr("Số CCCD/CMND (nếu có)", "Identity-card number (if known)")}</span>
                    <input name="id_number" inputmode="numeric" autocomplete="off"
                        prop:value=move || id_number.get()
                        on:input=move |ev| id_number.set(event_target_value(&ev))/>
                </label>
                <label>
                    <span>{move || tr("Chi bộ", "Branch")}</span>
                    <select name="org_id" on:change=move |ev| org.set(event_target_value(&ev))>
                        {move || branches().into_iter().map(|(id, n)| {
                            let selected = org.get_untracked() == id;
                            view! { <option value=id selected=selected>{n}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <DuplicateWarning probe=probe/>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <div class="actions">
                    <button type="button" on:click=move |_| go(Screen::List)>{move || tr("Hủy", "Cancel")}</button>
                    <button type="submit" class="primary">{move || tr("Tạo hồ sơ", "Create")}</button>
                </div>
            </form>
        </section>
    }
}
