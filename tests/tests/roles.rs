//! The role test: every route of the router, walked from `server::routes::all()`, is
//! refused to the roles below its access (403), and without credentials to the routes
//! that need a session (401); the roles that may use a page read it.

use reqwest::Method;
use server::routes::Access;
use tests::{TestApp, spawn_app};

/// A request to `path` (placeholders filled) as the holder of `token`, if any.
async fn status(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> u16 {
    let path = path.replace("{id}", "1").replace("{report}", "dashboard");
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let post = method == Method::POST;
    let mut req = app.http.request(method, format!("{}{path}", app.url));
    if post {
        req = req
            .header("content-type", "application/json")
            .header("origin", &app.url)
            .body("{}");
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn every_route_is_refused_to_the_roles_below_its_access() {
    let app = spawn_app().await;
    let cadre = app.device("canbo.lachtray").await.unwrap().token;
    let reviewer = app.device("bantochuc").await.unwrap().token;
    let admin = app.device("admin").await.unwrap().token;
    let routes = server::routes::all();
    let count = |a: Access| routes.iter().filter(|r| r.2 == a).count();
    assert!(count(Access::Reviewer) > 20 && count(Access::Admin) > 20);
    for (method, path, access) in routes {
        let what = format!("{method} {path}");
        let (refused, allowed): (Vec<&str>, &str) = match access {
            Access::Public => continue,
            Access::Signed => {
                assert_eq!(status(&app, method, path, None).await, 401, "{what}");
                continue;
            }
            Access::Reviewer => (vec![&cadre], &reviewer),
            Access::Admin => (vec![&cadre, &reviewer], &admin),
        };
        for token in refused {
            assert_eq!(status(&app, method, path, Some(token)).await, 403, "{what}");
        }
        // A form post also needs the page's form token, so only reads show the way in.
        if method == "GET" {
            let got = status(&app, method, path, Some(allowed)).await;
            assert!(![401, 403].contains(&got), "{what} as allowed: {got}");
        }
    }
}
