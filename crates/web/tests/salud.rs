//! Salud over HTTP, on each engine, on a small constructed country (two provinces, three
//! municipalities): an outbreak raises EARS C1, C2, C3 and the 14-day threshold once, shown on
//! the dashboard and sent to the province's epidemiologists only; case-level data is for
//! health roles only, a health worker reads only their province's, and every case read lands
//! in the audit log; the dashboards withhold small counts below the province and show it by
//! complete weeks; a line list
//! creates and updates cases, refuses each bad row with its line and reason, and resumes; a
//! person is found again by national id or name and birth date, and duplicates are merged;
//! laboratory tests refuse impossible days, and contacts are followed to their quarantine's end;
//! centres report their beds as open data, and transmission events link their cases; the
//! models give Rt and a forecast as open data, and epidemiologists run SEIR scenarios and the
//! agent-based model as jobs they follow and cancel.

use ceiba_identity::Role;
use ceiba_store::{AreaRow, Db};
use ceiba_surveillance::alerts::AlertSettings;
use ceiba_surveillance::covid19cubadata::{Case, Date, Sex, Source};
use ceiba_testkit::each_engine;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::salud_alerts;
use serde_json::{Value, json};

mod support;
use support::{
    Browser, PASSWORD, TestServer, active_user, assert_problem, enrol_second_factor,
    second_factor_token, sign_in, sign_in_by_form_with_code, signed_in_user,
    signed_in_with_second_factor, token_of, unescape_html,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        an_outbreak_is_signalled_once_and_sent_to_its_provinces_epidemiologists,
        case_records_are_for_health_roles_within_their_provinces_and_every_read_is_audited,
        dashboards_withhold_small_counts_below_the_province,
        a_line_list_creates_and_updates_refuses_bad_rows_whole_and_resumes,
        persons_are_found_again_and_duplicates_merged_with_their_history,
        lab_tests_and_contacts_are_followed_to_the_end_of_quarantine,
        centres_report_their_beds_and_events_link_their_cases,
        the_line_listing_form_saves_a_case_once_and_says_why_it_refuses_one,
        models_give_rt_a_forecast_and_runs_of_scenarios_and_agents_as_jobs,
    );
    suite.run()
}

const SQUARE: &str = "[[[[-82.4,23.1],[-82.3,23.1],[-82.3,23.2],[-82.4,23.2],[-82.4,23.1]]]]";
const SQUARE_EAST: &str = "[[[[-82.2,23.1],[-82.1,23.1],[-82.1,23.2],[-82.2,23.2],[-82.2,23.1]]]]";

fn area(code: &str, province: &str, name: &str, population: u64, boundary: &str) -> AreaRow {
    AreaRow {
        code: code.to_owned(),
        province_code: province.to_owned(),
        name: name.to_owned(),
        population,
        boundary: boundary.to_owned(),
    }
}

fn case(id: String, day: Date, municipality: &str) -> Case {
    Case {
        id,
        confirmed_on: day,
        country: Some("cu".to_owned()),
        age: Some(40),
        sex: Some(Sex::Female),
        municipality_code: municipality.to_owned(),
        province_code: municipality[..2].to_owned(),
        source: Source::Autochthonous,
        consulted_on: None,
        arrived_on: None,
        isolation_centre: None,
        diagnostic_centre: None,
        contacts: None,
    }
}

/// The country, and its cases up to `today`: Plaza (23.01, 100,000 people) has 2 cases a day
/// for 29 days and 25 today; Centro (24.01) 1 a day for 10 days; Norte (24.02) 3 in all.
/// 83 cases in province 23, 13 in province 24.
async fn constructed_country(db: &Db, today: Date) -> Result<(), String> {
    db.load_geography(
        &[
            area("23", "23", "La Habana", 100_000, SQUARE),
            area("24", "24", "Este", 80_000, SQUARE_EAST),
        ],
        &[
            area("23.01", "23", "Plaza", 100_000, SQUARE),
            area("24.01", "24", "Centro", 50_000, SQUARE_EAST),
            area("24.02", "24", "Norte", 30_000, SQUARE_EAST),
        ],
    )
    .await
    .map_err(|error| error.to_string())?;
    let mut cases = Vec::new();
    for back in 1..=29 {
        for n in 0..2 {
            cases.push(case(
                format!("p-{back}-{n}"),
                today.plus_days(-back),
                "23.01",
            ));
        }
    }
    for n in 0..25 {
        cases.push(case(format!("p-0-{n}"), today, "23.01"));
    }
    for back in 0..10 {
        cases.push(case(format!("c-{back}"), today.plus_days(-back), "24.01"));
    }
    for back in 0..3 {
        cases.push(case(
            format!("n-{back}"),
            today.plus_days(-back * 5),
            "24.02",
        ));
    }
    db.import_salud_cases(&cases, "ceiba")
        .await
        .map_err(|error| error.to_string())?;
    Ok(())
}

fn today_of(server: &TestServer) -> Date {
    salud_alerts::cuba_day(server.clock.now_ms())
}

async fn salud_sms_to(db: &Db, phone: &str) -> Result<Vec<String>, String> {
    let due = db
        .due_sms(i64::MAX, ceiba_store::SMS_BATCH_MAX)
        .await
        .map_err(|error| error.to_string())?;
    Ok(due
        .into_iter()
        .filter(|sms| sms.phone == phone && sms.body.starts_with("Ceiba Salud"))
        .map(|sms| sms.body)
        .collect())
}

async fn get_json(server: &TestServer, path: &str, token: &str) -> Result<(u16, Value), String> {
    let authorization = format!("Bearer {token}");
    let response = server
        .get_with(path, &[("authorization", authorization.as_str())])
        .await?;
    let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    Ok((response.status, body))
}

async fn an_outbreak_is_signalled_once_and_sent_to_its_provinces_epidemiologists(
    database: TestDatabase,
) -> TestResult {
    let db = database.db.clone();
    let mut server = TestServer::start(&db).await?;
    let today = today_of(&server);
    constructed_country(&db, today).await?;
    let (havana, _) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352100001",
        "Epi Habana",
        &[Role::Epidemiologist],
    )
    .await?;
    let (east, _) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352100002",
        "Epi Este",
        &[Role::Epidemiologist],
    )
    .await?;
    assert!(
        db.set_salud_staff_provinces(&havana, &["23".to_owned()])
            .await?
    );
    assert!(
        db.set_salud_staff_provinces(&east, &["24".to_owned()])
            .await?
    );

    let cache = ceiba_web::salud_dashboard::SaludCache::default();
    let settings = AlertSettings::default();
    let now_ms = server.clock.now_ms();
    let run = salud_alerts::run(&db, &cache, &settings, today.plus_days(-3), now_ms).await?;
    assert_eq!(
        run.new, 4,
        "C1, C2, C3 and the 14-day threshold, today, in Plaza"
    );
    let alerts = db.salud_alerts(None, "2000-01-01", 100).await?;
    let mut methods: Vec<&str> = alerts.iter().map(|alert| alert.method.as_str()).collect();
    methods.sort_unstable();
    assert_eq!(methods, ["ears_c1", "ears_c2", "ears_c3", "incidence_14d"]);
    for alert in &alerts {
        assert_eq!(alert.municipality_code, "23.01");
        assert_eq!(alert.day, today.to_string());
        assert!(
            alert.explanation.starts_with("Plaza (La Habana): "),
            "{}",
            alert.explanation
        );
        assert!(
            alert.explanation.contains("supera"),
            "{}",
            alert.explanation
        );
    }
    let c1 = alerts
        .iter()
        .find(|alert| alert.method == "ears_c1")
        .ok_or("C1")?;
    assert_eq!(c1.cases, 25);
    assert!(
        (c1.value - 23.0).abs() < 1e-9,
        "(25 − 2) / the floor of 1: {}",
        c1.value
    );
    let incidence = alerts
        .iter()
        .find(|alert| alert.method == "incidence_14d")
        .ok_or("I14")?;
    assert!(
        (incidence.value - 51.0).abs() < 1e-9,
        "13 × 2 + 25 per 100,000: {}",
        incidence.value
    );

    // Sent to La Habana's epidemiologist, once each; not to the east's.
    let sent = salud_sms_to(&db, "+5352100001").await?;
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert!(sent.iter().all(|text| text.contains("Plaza")), "{sent:?}");
    assert!(salud_sms_to(&db, "+5352100002").await?.is_empty());

    // A second run finds the same signals and sends nothing more.
    let again = salud_alerts::run(&db, &cache, &settings, today.plus_days(-3), now_ms).await?;
    assert_eq!((again.signals, again.new), (4, 0));
    assert_eq!(salud_sms_to(&db, "+5352100001").await?.len(), 4);

    // Signals about days before the notification window are kept, never sent.
    let old_day = today.plus_days(-40);
    db.import_salud_cases(
        &(0..30)
            .map(|n| case(format!("old-{n}"), old_day, "24.01"))
            .collect::<Vec<_>>(),
        "ceiba",
    )
    .await?;
    let late = salud_alerts::run(&db, &cache, &settings, today.plus_days(-3), now_ms).await?;
    assert!(late.new > 0, "the old outbreak is found");
    assert!(
        salud_sms_to(&db, "+5352100002").await?.is_empty(),
        "but not sent"
    );

    // The dashboard shows them: the method to all, the numbers to health roles.
    let public = server.get("/salud/municipio/23.01").await?;
    assert_eq!(public.status, 200);
    let page = public.text();
    assert!(page.contains("EARS C2"), "the alert is on the dashboard");
    assert!(
        !page.contains("supera"),
        "its numbers are not shown to the public"
    );
    let (_, token) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352100003",
        "Epi Nacional",
        &[Role::Epidemiologist],
    )
    .await?;
    let authorization = format!("Bearer {token}");
    let health = server
        .get_with(
            "/salud/municipio/23.01",
            &[("authorization", authorization.as_str())],
        )
        .await?;
    assert!(health.text().contains("supera 3"), "health roles read why");
    server.shut_down();
    Ok(())
}

async fn case_records_are_for_health_roles_within_their_provinces_and_every_read_is_audited(
    database: TestDatabase,
) -> TestResult {
    let db = database.db.clone();
    let mut server = TestServer::start(&db).await?;
    constructed_country(&db, today_of(&server)).await?;
    let admin = second_factor_token(&server, &db, "+5352200001", &[Role::Administrator]).await?;
    let (worker_id, worker) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352200002",
        "Enfermera",
        &[Role::HealthWorker],
    )
    .await?;
    let (_, epidemiologist) =
        signed_in_with_second_factor(&server, &db, "+5352200003", "Epi", &[Role::Epidemiologist])
            .await?;
    let (_, citizen) =
        signed_in_with_second_factor(&server, &db, "+5352200004", "Vecino", &[]).await?;

    // Nobody outside health reads cases; the public not even the list.
    let anonymous = server.get("/api/v1/salud/cases").await?;
    assert_problem(&anonymous, 401, "unauthenticated", "/api/v1/salud/cases");
    let (status, body) = get_json(&server, "/api/v1/salud/cases", &citizen).await?;
    assert_eq!(status, 403, "{body}");
    let (status, body) = get_json(&server, "/api/v1/salud/cases/p-0-0", &citizen).await?;
    assert_eq!(status, 403, "{body}");
    // Health roles act only from a session that proved a second factor: with the password
    // alone, case records stay closed (they were open before the access-matrix drill).
    for (phone, role) in [
        ("+5352200005", Role::HealthWorker),
        ("+5352200006", Role::Epidemiologist),
    ] {
        let (_, password_only) = signed_in_user(&server, &db, phone, "Sin factor", &[role]).await?;
        let (status, body) = get_json(&server, "/api/v1/salud/cases", &password_only).await?;
        assert_eq!(status, 403, "{role:?}: {body}");
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("segundo factor")),
            "{role:?}: {body}"
        );
    }

    // A health worker with no province reads none.
    let (status, body) = get_json(&server, "/api/v1/salud/cases", &worker).await?;
    assert_eq!(status, 200);
    assert_eq!(body["cases"].as_array().map(Vec::len), Some(0), "{body}");

    // The administrator assigns La Habana (an unknown province is refused, nothing changes).
    let path = format!("/api/v1/admin/users/{worker_id}/salud-provinces");
    let refused = server
        .send_json(
            "PUT",
            &path,
            &json!({ "provinces": ["23", "99"] }),
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await?;
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert!(db.salud_staff_provinces(&worker_id).await?.is_empty());
    let assigned = server
        .send_json(
            "PUT",
            &path,
            &json!({ "provinces": ["23"] }),
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await?;
    assert_eq!(assigned.status, 204, "{}", assigned.text());
    let not_admin = server
        .send_json(
            "PUT",
            &path,
            &json!({ "provinces": ["24"] }),
            &[("authorization", &format!("Bearer {worker}"))],
        )
        .await?;
    assert_eq!(not_admin.status, 403);

    // Now the worker reads La Habana's cases, and only those, each read audited.
    let before = db.audit_head().await?.tree_size;
    let (status, body) = get_json(&server, "/api/v1/salud/cases?limit=200", &worker).await?;
    assert_eq!(status, 200, "{body}");
    let cases = body["cases"].as_array().ok_or("cases")?;
    assert_eq!(cases.len(), 83);
    assert!(cases.iter().all(|case| case["province_code"] == "23"));
    assert_eq!(
        db.audit_head().await?.tree_size,
        before + 83,
        "one entry per case read"
    );
    let entries = db.audit_entries(before, 1).await?;
    let entry: Value = serde_json::from_slice(&entries[0].data)?;
    assert_eq!(entry["kind"], "salud_case_read");
    assert_eq!(entry["actor"], worker_id.as_str());

    // Asking for another province's gives nothing; one of its cases is as if it did not exist.
    let (_, body) = get_json(&server, "/api/v1/salud/cases?province=24", &worker).await?;
    assert_eq!(body["cases"].as_array().map(Vec::len), Some(0));
    let (status, _) = get_json(&server, "/api/v1/salud/cases/c-0", &worker).await?;
    assert_eq!(status, 404);
    let (status, body) = get_json(&server, "/api/v1/salud/cases/p-0-0", &worker).await?;
    assert_eq!(
        (status, body["municipality_code"].as_str()),
        (200, Some("23.01"))
    );

    // An epidemiologist reads every province; filters narrow; bad filters are refused.
    let (_, body) = get_json(
        &server,
        "/api/v1/salud/cases?province=24&limit=200",
        &epidemiologist,
    )
    .await?;
    assert_eq!(body["cases"].as_array().map(Vec::len), Some(13));
    let (_, body) = get_json(
        &server,
        "/api/v1/salud/cases?municipality=24.02",
        &epidemiologist,
    )
    .await?;
    assert_eq!(body["cases"].as_array().map(Vec::len), Some(3));
    let before = db.audit_head().await?.tree_size;
    for bad in ["from=2021-13-01", "sex=x", "status=cured", "source=space"] {
        let (status, body) = get_json(
            &server,
            &format!("/api/v1/salud/cases?{bad}"),
            &epidemiologist,
        )
        .await?;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    assert_eq!(
        db.audit_head().await?.tree_size,
        before,
        "a refused read reads nothing"
    );

    // The page lists the same, for health roles only.
    let authorization = format!("Bearer {worker}");
    let before = db.audit_head().await?.tree_size;
    let listed = server
        .get_with(
            "/salud/casos?municipality=23.01",
            &[("authorization", authorization.as_str())],
        )
        .await?;
    assert_eq!(listed.status, 200);
    assert_eq!(
        db.audit_head().await?.tree_size,
        before + 50,
        "the 50 cases shown are logged, not the one read to know a next page exists"
    );
    let page = listed.text();
    assert!(page.contains("id=\"casos\""), "{page}");
    assert!(page.contains("p-0-0") && !page.contains("c-0<"));
    assert!(
        page.contains("id=\"siguientes\""),
        "83 cases: more than one page"
    );
    let citizen_auth = format!("Bearer {citizen}");
    let refused = server
        .get_with("/salud/casos", &[("authorization", citizen_auth.as_str())])
        .await?;
    assert_eq!(refused.status, 403);
    server.shut_down();
    Ok(())
}

async fn dashboards_withhold_small_counts_below_the_province(database: TestDatabase) -> TestResult {
    let db = database.db.clone();
    let mut server = TestServer::start(&db).await?;
    let today = today_of(&server);
    constructed_country(&db, today).await?;

    let nation = server.get("/salud").await?;
    assert_eq!(nation.status, 200);
    let page = nation.text();
    assert!(page.len() < 100_000, "{} bytes", page.len());
    assert!(
        page.contains("id=\"cifra-confirmados\">96<"),
        "83 + 13 cases"
    );
    assert!(page.matches("<svg").count() >= 3, "curves and the map");
    assert!(
        page.contains("href=\"/salud/provincia/23\""),
        "the map links its provinces"
    );

    // Province 24's table withholds Norte's 3 cases (one a week); Norte's own page too, and
    // it shows neither a cumulative curve nor the profile of its cases.
    let province = unescape_html(&server.get("/salud/provincia/24").await?.text());
    assert!(province.contains("Provincia Este"));
    assert!(
        province.contains(
            ">Norte</a></td><td class=\"n\">30.000</td><td class=\"n\">reservado</td>\
             <td class=\"n\">reservado</td>"
        ),
        "Norte's 3 cases are withheld: {province}"
    );
    assert!(
        province.contains("id=\"cifra-confirmados\">13<"),
        "a province's own are not"
    );
    let north = unescape_html(&server.get("/salud/municipio/24.02").await?.text());
    assert!(
        north.contains("id=\"cifra-confirmados\">reservado<"),
        "{north}"
    );
    assert!(north.contains("por semanas completas"), "{north}");
    assert!(north.contains("id=\"perfil-reservado\""), "{north}");
    assert!(!north.contains("id=\"por-edad\""), "{north}");
    assert!(
        !north.contains("id=\"acumulados\""),
        "no cumulative curve below the province"
    );
    // Below the province the figures move by complete weeks: two days of one week show the
    // same page, so their difference gives no day away. Plaza's first week (from the
    // country's first day, 29 days ago) holds 14 cases.
    let plaza_on = |back: i64| {
        let server = &server;
        async move {
            let page = server
                .get(&format!(
                    "/salud/municipio/23.01?fecha={}",
                    today.plus_days(-back)
                ))
                .await?
                .text();
            let figures = page
                .split("id=\"cifras\"")
                .nth(1)
                .and_then(|rest| rest.split("</dl>").next())
                .map(str::to_owned)
                .ok_or_else(|| format!("no figures: {page}"))?;
            Ok::<_, String>(figures)
        }
    };
    let (day_7, day_8) = (plaza_on(29 - 7).await?, plaza_on(29 - 8).await?);
    assert_eq!(day_7, day_8);
    assert!(day_7.contains("id=\"cifra-confirmados\">14<"), "{day_7}");
    assert_ne!(day_7, plaza_on(29 - 14).await?, "the next week moves them");

    // The day can be chosen; the cases grow with it.
    let earlier = server
        .get(&format!(
            "/salud/provincia/23?fecha={}",
            today.plus_days(-1)
        ))
        .await?
        .text();
    assert!(
        earlier.contains("id=\"cifra-confirmados\">58<"),
        "29 days of 2"
    );

    // The open profile: exact at the province, withheld below; the download page links all.
    let profile = |area: &'static str| {
        let server = &server;
        async move {
            let response = server
                .get(&format!("/api/salud/open/profile?area={area}"))
                .await?;
            assert_eq!(response.status, 200);
            serde_json::from_slice::<Value>(&response.body).map_err(|e| e.to_string())
        }
    };
    let east = profile("24").await?;
    assert_eq!(east["schema"], "ceiba-salud-perfil/1");
    let female = |view: &Value| {
        view["groups"]
            .as_array()
            .and_then(|groups| groups.iter().find(|group| group["group"] == "Femenino"))
            .map(|group| group["cases"].clone())
    };
    assert_eq!(female(&east), Some(json!(13)));
    // A municipality's profile is not published: its groups are small.
    let north_profile = server.get("/api/salud/open/profile?area=24.02").await?;
    assert_eq!(north_profile.status, 404);
    let csv = server.get("/api/salud/open/profile.csv?area=24").await?;
    assert_eq!(csv.header("ceiba-schema"), Some("ceiba-salud-perfil/1"));
    assert!(csv.text().starts_with("dimension,grupo,casos\n"));
    assert!(csv.text().contains("sexo,Femenino,13\n"), "{}", csv.text());
    let downloads = server.get("/salud/datos").await?;
    assert_eq!(downloads.status, 200);
    assert!(
        downloads
            .text()
            .contains("/api/salud/open/series.csv?area=23")
    );

    // Unknown areas and bad days are refused.
    assert_eq!(server.get("/salud/provincia/99").await?.status, 404);
    assert_eq!(
        server.get("/salud/provincia/23.01").await?.status,
        404,
        "not a province"
    );
    assert_eq!(
        server.get("/salud/municipio/23").await?.status,
        404,
        "not a municipality"
    );
    assert_eq!(server.get("/salud?fecha=ayer").await?.status, 400);

    // A new case moves the figures (the cache follows the records' revision).
    db.import_salud_cases(&[case("nuevo".to_owned(), today, "23.01")], "ceiba")
        .await?;
    let after = server.get("/salud").await?.text();
    assert!(after.contains("id=\"cifra-confirmados\">97<"));
    server.shut_down();
    Ok(())
}

async fn send_file(
    server: &TestServer,
    token: &str,
    content_type: &str,
    body: &str,
) -> Result<(u16, Value), String> {
    let authorization = format!("Bearer {token}");
    let response = ceiba_testkit::http::send(
        "POST",
        &server.url("/api/v1/salud/imports"),
        &[
            ("authorization", authorization.as_str()),
            ("content-type", content_type),
        ],
        body.as_bytes().to_vec(),
    )
    .await?;
    let value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    Ok((response.status, value))
}

async fn a_line_list_creates_and_updates_refuses_bad_rows_whole_and_resumes(
    database: TestDatabase,
) -> TestResult {
    let db = database.db.clone();
    let mut server = TestServer::start(&db).await?;
    let today = today_of(&server);
    constructed_country(&db, today).await?;
    let (worker_id, worker) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352300001",
        "Enfermera",
        &[Role::HealthWorker],
    )
    .await?;
    assert!(
        db.set_salud_staff_provinces(&worker_id, &["23".to_owned()])
            .await?
    );
    let (_, citizen) =
        signed_in_with_second_factor(&server, &db, "+5352300002", "Vecino", &[]).await?;
    let day = |back: i64| today.plus_days(-back).to_string();
    let future = today.plus_days(2).to_string();

    let file = format!(
        "id,estado,fecha_confirmacion,fecha_inicio_sintomas,fecha_muestra,edad,sexo,municipio,fuente,pais,gravedad\n\
         nuevo-1,confirmado,{d1},{d3},{d2},29,F,23.01,importado,es,estable\n\
         p-0-0,confirmado,{d0},,,41,F,23.01,autoctono,,grave\n\
         viejo,confirmado,{d1},,,130,M,23.01,,,\n\
         lejos,confirmado,{d1},,,30,M,99.99,,,\n\
         muestra,confirmado,{d3},,{d1},30,M,23.01,,,\n\
         futuro,sospechoso,,{future},,30,M,23.01,,,\n\
         doble,probable,,,,30,M,23.01,,,\n\
         doble,probable,,,,31,M,23.01,,,\n\
         este,confirmado,{d1},,,30,M,24.01,,,\n\
         c-0,confirmado,{d1},,,30,M,23.01,,,\n",
        d0 = day(0),
        d1 = day(1),
        d2 = day(2),
        d3 = day(3),
    );
    // Only health roles send line lists, as CSV or JSON.
    let (status, _) = send_file(&server, &citizen, "text/csv", &file).await?;
    assert_eq!(status, 403);
    let (status, _) = send_file(&server, &worker, "text/plain", &file).await?;
    assert_eq!(status, 415);

    let revision = db.salud_revision().await?;
    let (status, report) = send_file(&server, &worker, "text/csv; charset=utf-8", &file).await?;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["created"].as_u64(), report["updated"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
    let rejected: Vec<(u64, String)> = report["rejected"]
        .as_array()
        .ok_or("rejected")?
        .iter()
        .map(|row| {
            (
                row["line"].as_u64().unwrap_or(0),
                row["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected = [
        (4, "edad"),
        (5, "no es un código DPA"),
        (6, "anterior a la muestra"),
        (7, "posterior a hoy"),
        (8, "repetido"),
        (9, "repetido"),
        (10, "no es de sus provincias"),
        (11, "otra provincia"),
    ];
    assert_eq!(rejected.len(), expected.len(), "{rejected:?}");
    for ((line, reason), (expected_line, part)) in rejected.iter().zip(expected) {
        assert_eq!(*line, expected_line, "{reason}");
        assert!(reason.contains(part), "line {line}: {reason}");
    }
    // The good rows are written whole; the refused ones not at all.
    let updated = db.salud_case("p-0-0").await?.ok_or("p-0-0")?;
    assert_eq!(
        (updated.age, updated.severity.as_deref()),
        (Some(41), Some("serious"))
    );
    let created = db.salud_case("nuevo-1").await?.ok_or("nuevo-1")?;
    assert_eq!(created.country.as_deref(), Some("es"));
    assert_eq!(created.onset_on, Some(day(3)));
    for refused in ["viejo", "lejos", "muestra", "futuro", "doble", "este"] {
        assert!(
            db.salud_case(refused).await?.is_none(),
            "{refused} was written"
        );
    }
    let moved = db.salud_case("c-0").await?.ok_or("c-0")?;
    assert_eq!(
        moved.municipality_code, "24.01",
        "a case of another province stays as it was"
    );
    assert!(
        db.salud_revision().await? > revision,
        "the dashboards will see the change"
    );

    // A death in a line list is a death of the records, with its comorbidities; undone when
    // the case is no longer deceased.
    let deaths_in_plaza = || async {
        let deaths = db.salud_deaths_by_day().await?;
        Ok::<u64, ceiba_store::StoreError>(
            deaths
                .iter()
                .filter(|row| row.municipality_code == "23.01")
                .map(|row| row.count)
                .sum(),
        )
    };
    assert_eq!(deaths_in_plaza().await?, 0);
    let header = "id,estado,fecha_confirmacion,municipio,desenlace,fecha_desenlace,comorbilidades";
    let died = format!(
        "{header}\np-0-1,confirmado,{},23.01,fallecido,{},diabetes; asma\n",
        day(1),
        day(0)
    );
    let (status, death) = send_file(&server, &worker, "text/csv", &died).await?;
    assert_eq!(
        (status, death["updated"].as_u64()),
        (200, Some(1)),
        "{death}"
    );
    assert_eq!(deaths_in_plaza().await?, 1);
    assert_eq!(
        db.salud_counts().await?.deaths_added,
        1,
        "a death with its comorbidities"
    );
    let recovered = format!(
        "{header}\np-0-1,confirmado,{},23.01,recuperado,{},\n",
        day(1),
        day(0)
    );
    let (status, _) = send_file(&server, &worker, "text/csv", &recovered).await?;
    assert_eq!(status, 200);
    assert_eq!(deaths_in_plaza().await?, 0, "no longer a death");
    assert_eq!(db.salud_counts().await?.deaths_added, 0);

    // The same file again: the same answer, nothing written again.
    let revision = db.salud_revision().await?;
    let (status, again) = send_file(&server, &worker, "text/csv", &file).await?;
    assert_eq!(status, 200);
    assert_eq!(again["import_id"], report["import_id"]);
    assert_eq!(again["rejected"], report["rejected"]);
    assert_eq!(db.salud_revision().await?, revision);

    // An import cut short after its first batch goes on from there when the file comes again.
    let json = format!(
        r#"[{{"id": "r-1", "estado": "confirmado", "fecha_confirmacion": "{d}", "municipio": "23.01"}},
            {{"id": "r-2", "estado": "confirmado", "fecha_confirmacion": "{d}", "municipio": "23.01"}},
            {{"id": "r-3", "estado": "confirmado", "fecha_confirmacion": "{d}", "municipio": "23.01", "edad": 7}}]"#,
        d = day(1)
    );
    let province_of = |code: &str| (code == "23.01").then(|| "23".to_owned());
    let context = ceiba_surveillance::line_list::Context {
        province_of: &province_of,
        today,
    };
    let list = ceiba_surveillance::line_list::read_json(&json, &context)?;
    let entries: Vec<_> = list.entries.into_iter().map(|(_, entry)| entry).collect();
    let id = ceiba_web::salud_imports::import_id(&worker_id, json.as_bytes());
    db.begin_salud_import(&id, &worker_id, 3, "[]", 0).await?;
    assert!(db.write_salud_entries(&id, 0, &entries[..1]).await?);
    assert!(
        !db.write_salud_entries(&id, 0, &entries[..1]).await?,
        "not twice from the same place"
    );
    let (status, resumed) = send_file(&server, &worker, "application/json", &json).await?;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["import_id"].as_str(), Some(id.as_str()));
    assert_eq!(resumed["resumed_from"].as_u64(), Some(1));
    assert_eq!(resumed["created"].as_u64(), Some(3));
    assert_eq!(
        db.salud_case("r-3").await?.and_then(|case| case.age),
        Some(7)
    );

    // A file that cannot be read is refused whole.
    let before = db.salud_revision().await?;
    let (status, problem) =
        send_file(&server, &worker, "text/csv", "id,estado\nsolo,confirmado\n").await?;
    assert_eq!(status, 422);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("municipio"),
        "{problem}"
    );
    let (status, _) = send_file(&server, &worker, "application/json", "{\"id\": 1}").await?;
    assert_eq!(status, 422);
    assert_eq!(db.salud_revision().await?, before);
    server.shut_down();
    Ok(())
}

async fn post_person(
    server: &TestServer,
    token: &str,
    body: &Value,
) -> Result<(u16, Value), String> {
    let authorization = format!("Bearer {token}");
    let response = server
        .send_json(
            "POST",
            "/api/v1/salud/persons",
            body,
            &[("authorization", authorization.as_str())],
        )
        .await?;
    Ok((
        response.status,
        serde_json::from_slice(&response.body).unwrap_or(Value::Null),
    ))
}

async fn persons_are_found_again_and_duplicates_merged_with_their_history(
    database: TestDatabase,
) -> TestResult {
    let db = database.db.clone();
    let mut server = TestServer::start(&db).await?;
    constructed_country(&db, today_of(&server)).await?;
    let (worker_id, worker) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352400001",
        "Enfermera",
        &[Role::HealthWorker],
    )
    .await?;
    assert!(
        db.set_salud_staff_provinces(&worker_id, &["23".to_owned()])
            .await?
    );
    let (east_id, east) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352400002",
        "Enfermero",
        &[Role::HealthWorker],
    )
    .await?;
    assert!(
        db.set_salud_staff_provinces(&east_id, &["24".to_owned()])
            .await?
    );
    let (_, citizen) =
        signed_in_with_second_factor(&server, &db, "+5352400003", "Vecino", &[]).await?;

    // A new person; the same again by national id, then by names and date of birth.
    let (status, first) = post_person(
        &server,
        &worker,
        &json!({
            "national_id": "90010112345", "given_names": "José María",
            "surnames": "Pérez Núñez", "sex": "male", "municipality_code": "23.01"
        }),
    )
    .await?;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        first["person"]["birth_date"], "1990-01-01",
        "from the carné"
    );
    let a = first["person"]["id"].as_str().ok_or("id")?.to_owned();
    let (status, again) = post_person(
        &server,
        &worker,
        &json!({
            "national_id": "90010112345", "given_names": "Jose", "surnames": "Perez",
            "municipality_code": "23.01"
        }),
    )
    .await?;
    assert_eq!(
        (status, again["matched_by"].as_str()),
        (200, Some("national_id"))
    );
    assert_eq!(again["person"]["id"].as_str(), Some(a.as_str()));
    let (status, by_name) = post_person(
        &server,
        &worker,
        &json!({
            "given_names": "  jose  maria", "surnames": "PEREZ NUNEZ", "birth_date": "1990-01-01",
            "municipality_code": "23.01"
        }),
    )
    .await?;
    assert_eq!(
        (status, by_name["matched_by"].as_str()),
        (200, Some("name_and_birth_date"))
    );
    assert_eq!(by_name["person"]["id"].as_str(), Some(a.as_str()));

    // Another carné with the same name and birthday is another record, listed as a possible
    // duplicate.
    let (status, second) = post_person(
        &server,
        &worker,
        &json!({
            "national_id": "90010154321", "given_names": "José María", "surnames": "Pérez Núñez",
            "municipality_code": "23.01"
        }),
    )
    .await?;
    assert_eq!(status, 201, "{second}");
    let b = second["person"]["id"].as_str().ok_or("id")?.to_owned();
    let (status, groups) = get_json(&server, "/api/v1/salud/persons/duplicates", &worker).await?;
    assert_eq!(status, 200);
    assert_eq!(
        groups["groups"].as_array().map(Vec::len),
        Some(1),
        "{groups}"
    );
    assert_eq!(groups["groups"][0].as_array().map(Vec::len), Some(2));
    let (_, none) = get_json(&server, "/api/v1/salud/persons/duplicates", &east).await?;
    assert_eq!(
        none["groups"].as_array().map(Vec::len),
        Some(0),
        "not the east's to see"
    );

    // Bad input changes nothing.
    for bad in [
        json!({"national_id": "123", "given_names": "A", "surnames": "B", "municipality_code": "23.01"}),
        json!({"national_id": "90010112345", "birth_date": "1991-01-01", "given_names": "A", "surnames": "B", "municipality_code": "23.01"}),
        json!({"given_names": "", "surnames": "B", "municipality_code": "23.01"}),
        json!({"given_names": "A", "surnames": "B", "municipality_code": "99.99"}),
        json!({"given_names": "A", "surnames": "B", "birth_date": "2999-01-01", "municipality_code": "23.01"}),
    ] {
        let (status, problem) = post_person(&server, &worker, &bad).await?;
        assert_eq!(status, 422, "{bad}: {problem}");
    }
    let (status, _) = post_person(
        &server,
        &worker,
        &json!({
            "given_names": "A", "surnames": "B", "municipality_code": "24.01"
        }),
    )
    .await?;
    assert_eq!(status, 403, "not the worker's province");
    let (status, _) = get_json(&server, &format!("/api/v1/salud/persons/{a}"), &citizen).await?;
    assert_eq!(status, 403);
    let (status, _) = get_json(&server, &format!("/api/v1/salud/persons/{a}"), &east).await?;
    assert_eq!(status, 404, "another province's person is as if absent");

    // Cases name their person in the line list.
    let file = format!(
        "id,estado,fecha_confirmacion,municipio,persona\n\
         p-0-0,confirmado,{d},23.01,{b}\n\
         p-0-1,confirmado,{d},23.01,{a}\n\
         p-0-2,confirmado,{d},23.01,nadie\n",
        d = today_of(&server)
    );
    let (status, report) = send_file(&server, &worker, "text/csv", &file).await?;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["updated"].as_u64(), Some(2), "{report}");
    assert_eq!(report["rejected"][0]["line"].as_u64(), Some(4));

    // The duplicate is merged: its case moves, its record stays with a pointer and a history.
    let path = format!("/api/v1/salud/persons/{a}/merge");
    let authorization = format!("Bearer {worker}");
    let headers = [("authorization", authorization.as_str())];
    let before = db.audit_head().await?.tree_size;
    let merged = server
        .send_json("POST", &path, &json!({ "duplicate_id": b }), &headers)
        .await?;
    assert_eq!(merged.status, 200, "{}", merged.text());
    let detail: Value = serde_json::from_slice(&merged.body)?;
    assert_eq!(detail["case_ids"], json!(["p-0-0", "p-0-1"]));
    assert_eq!(detail["merges"][0]["merged_id"].as_str(), Some(b.as_str()));
    assert_eq!(
        detail["merges"][0]["snapshot"]["person"]["national_id"],
        "90010154321"
    );
    assert_eq!(
        detail["merges"][0]["snapshot"]["cases_moved"],
        json!(["p-0-0"])
    );
    assert!(
        db.audit_head().await?.tree_size > before,
        "the merge is in the audit log"
    );
    let (_, gone) = get_json(&server, &format!("/api/v1/salud/persons/{b}"), &worker).await?;
    assert_eq!(gone["person"]["merged_into"].as_str(), Some(a.as_str()));
    assert_eq!(gone["case_ids"], json!([]));
    let (_, groups) = get_json(&server, "/api/v1/salud/persons/duplicates", &worker).await?;
    assert_eq!(groups["groups"].as_array().map(Vec::len), Some(0));
    let twice = server
        .send_json("POST", &path, &json!({ "duplicate_id": b }), &headers)
        .await?;
    assert_eq!(twice.status, 409);
    let itself = server
        .send_json("POST", &path, &json!({ "duplicate_id": a }), &headers)
        .await?;
    assert_eq!(itself.status, 422);
    let (_, report) = send_file(
        &server,
        &worker,
        "text/csv",
        &format!("id,estado,municipio,persona\nq-1,sospechoso,23.01,{b}\n"),
    )
    .await?;
    let reason = report["rejected"][0]["reason"].as_str().unwrap_or("");
    assert!(reason.contains("se fusionó"), "{report}");
    server.shut_down();
    Ok(())
}

async fn send_as(
    server: &TestServer,
    method: &str,
    path: &str,
    token: &str,
    body: &Value,
) -> Result<(u16, Value), String> {
    let authorization = format!("Bearer {token}");
    let response = server
        .send_json(
            method,
            path,
            body,
            &[("authorization", authorization.as_str())],
        )
        .await?;
    Ok((
        response.status,
        serde_json::from_slice(&response.body).unwrap_or(Value::Null),
    ))
}

async fn lab_tests_and_contacts_are_followed_to_the_end_of_quarantine(
    database: TestDatabase,
) -> TestResult {
    let db = database.db.clone();
    let mut server = TestServer::start(&db).await?;
    let today = today_of(&server);
    constructed_country(&db, today).await?;
    let (worker_id, worker) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352500001",
        "Enfermera",
        &[Role::HealthWorker],
    )
    .await?;
    assert!(
        db.set_salud_staff_provinces(&worker_id, &["23".to_owned()])
            .await?
    );
    let (east_id, east) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352500002",
        "Enfermero",
        &[Role::HealthWorker],
    )
    .await?;
    assert!(
        db.set_salud_staff_provinces(&east_id, &["24".to_owned()])
            .await?
    );
    let day = |offset: i64| today.plus_days(offset).to_string();

    // Laboratory tests: possible days only, on cases of the worker's provinces.
    let tests = "/api/v1/salud/cases/p-0-0/lab-tests";
    let good = json!({"kind": "pcr", "sampled_on": day(-2), "result": "positive",
                      "result_on": day(-1), "laboratory": "IPK"});
    let (status, test) = send_as(&server, "POST", tests, &worker, &good).await?;
    assert_eq!(status, 201, "{test}");
    for bad in [
        json!({"kind": "pcr", "sampled_on": day(-2), "result": "negative", "result_on": day(-3), "laboratory": "IPK"}),
        json!({"kind": "pcr", "sampled_on": day(1), "result": "pending", "laboratory": "IPK"}),
        json!({"kind": "pcr", "sampled_on": day(-2), "result": "pending", "result_on": day(-1), "laboratory": "IPK"}),
        json!({"kind": "olfato", "sampled_on": day(-2), "result": "pending", "laboratory": "IPK"}),
        json!({"kind": "pcr", "sampled_on": day(-2), "result": "pending", "laboratory": ""}),
    ] {
        let (status, problem) = send_as(&server, "POST", tests, &worker, &bad).await?;
        assert_eq!(status, 422, "{bad}: {problem}");
    }
    let (status, _) = send_as(
        &server,
        "POST",
        "/api/v1/salud/cases/c-0/lab-tests",
        &worker,
        &good,
    )
    .await?;
    assert_eq!(status, 404, "another province's case");
    let (_, listed) = get_json(&server, tests, &worker).await?;
    assert_eq!(
        listed["tests"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    assert_eq!(listed["tests"][0]["result"], "positive");

    // Two contacts of the case: one exposed three days ago, one twenty days ago.
    let mut people = Vec::new();
    for (given, birth) in [("Luis", "1970-03-04"), ("Marta", "1981-06-07")] {
        let (status, found) = post_person(
            &server,
            &worker,
            &json!({
                "given_names": given, "surnames": "Díaz", "birth_date": birth,
                "municipality_code": "23.01"
            }),
        )
        .await?;
        assert_eq!(status, 201);
        people.push(found["person"]["id"].as_str().ok_or("id")?.to_owned());
    }
    let contacts = "/api/v1/salud/cases/p-0-0/contacts";
    let (status, recent) = send_as(
        &server,
        "POST",
        contacts,
        &worker,
        &json!({"person_id": people[0], "last_contact_on": day(-3)}),
    )
    .await?;
    assert_eq!(status, 201, "{recent}");
    assert_eq!(recent["quarantine_end_on"], day(11).as_str());
    assert_eq!(recent["status"], "pending");
    let (status, _) = send_as(
        &server,
        "POST",
        contacts,
        &worker,
        &json!({"person_id": people[0], "last_contact_on": day(-3)}),
    )
    .await?;
    assert_eq!(status, 409, "already a contact of this case");
    let (status, _) = send_as(
        &server,
        "POST",
        contacts,
        &worker,
        &json!({"person_id": people[1], "first_contact_on": day(-1), "last_contact_on": day(-2)}),
    )
    .await?;
    assert_eq!(status, 422, "first contact after the last");
    let (status, old) = send_as(
        &server,
        "POST",
        contacts,
        &worker,
        &json!({"person_id": people[1], "last_contact_on": day(-20)}),
    )
    .await?;
    assert_eq!(status, 201);

    // The follow-up list: the one due first, marked; not the east's to see.
    let authorization = format!("Bearer {worker}");
    let page = server
        .get_with(
            "/salud/contactos",
            &[("authorization", authorization.as_str())],
        )
        .await?
        .text();
    let marta = page.find("Marta Díaz").ok_or("Marta is listed")?;
    let luis = page.find("Luis Díaz").ok_or("Luis is listed")?;
    assert!(marta < luis, "the quarantine ending first comes first");
    assert!(page.contains("class=\"vence\""), "Marta's is due");
    let east_auth = format!("Bearer {east}");
    let east_page = server
        .get_with("/salud/contactos", &[("authorization", east_auth.as_str())])
        .await?
        .text();
    assert!(east_page.contains("id=\"sin-contactos\""));

    // The follow-up moves; an ended one stays ended; not completed before the quarantine ends.
    let luis_path = format!(
        "/api/v1/salud/contacts/{}",
        recent["id"].as_str().ok_or("id")?
    );
    let (status, _) = send_as(
        &server,
        "PUT",
        &luis_path,
        &worker,
        &json!({"status": "completed"}),
    )
    .await?;
    assert_eq!(status, 422, "the quarantine is not over");
    let (status, _) = send_as(
        &server,
        "PUT",
        &luis_path,
        &worker,
        &json!({"status": "in_quarantine"}),
    )
    .await?;
    assert_eq!(status, 200);
    let (status, _) = send_as(
        &server,
        "PUT",
        &luis_path,
        &worker,
        &json!({"status": "became_case"}),
    )
    .await?;
    assert_eq!(status, 422, "which case?");
    let (status, became) = send_as(
        &server,
        "PUT",
        &luis_path,
        &worker,
        &json!({"status": "became_case", "became_case_id": "p-0-1", "note": "fiebre"}),
    )
    .await?;
    assert_eq!(
        (status, became["became_case_id"].as_str()),
        (200, Some("p-0-1")),
        "{became}"
    );
    let (status, _) = send_as(
        &server,
        "PUT",
        &luis_path,
        &worker,
        &json!({"status": "pending"}),
    )
    .await?;
    assert_eq!(status, 422, "an ended follow-up stays ended");
    let (status, _) = send_as(
        &server,
        "PUT",
        &luis_path,
        &east,
        &json!({"status": "lost"}),
    )
    .await?;
    assert_eq!(status, 404, "not the east's contact");
    let marta_path = format!("/api/v1/salud/contacts/{}", old["id"].as_str().ok_or("id")?);
    let (status, _) = send_as(
        &server,
        "PUT",
        &marta_path,
        &worker,
        &json!({"status": "completed"}),
    )
    .await?;
    assert_eq!(status, 200, "twenty days on, the quarantine is over");
    let page = server
        .get_with(
            "/salud/contactos",
            &[("authorization", authorization.as_str())],
        )
        .await?
        .text();
    assert!(
        page.contains("id=\"sin-contactos\""),
        "nobody left to follow"
    );
    let (_, all) = get_json(&server, contacts, &worker).await?;
    assert_eq!(
        all["contacts"].as_array().map(Vec::len),
        Some(2),
        "the case keeps both"
    );
    server.shut_down();
    Ok(())
}

async fn centres_report_their_beds_and_events_link_their_cases(
    database: TestDatabase,
) -> TestResult {
    let db = database.db.clone();
    let mut server = TestServer::start(&db).await?;
    constructed_country(&db, today_of(&server)).await?;
    db.import_salud_series(
        &[],
        &[ceiba_surveillance::covid19cubadata::Centre {
            id: "hld".to_owned(),
            kind: "isolation",
            name: "Hospital de la Plaza".to_owned(),
            province_code: Some("23".to_owned()),
        }],
        &[],
    )
    .await?;
    let (worker_id, worker) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352600001",
        "Enfermera",
        &[Role::HealthWorker],
    )
    .await?;
    assert!(
        db.set_salud_staff_provinces(&worker_id, &["23".to_owned()])
            .await?
    );
    let (east_id, east) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352600002",
        "Enfermero",
        &[Role::HealthWorker],
    )
    .await?;
    assert!(
        db.set_salud_staff_provinces(&east_id, &["24".to_owned()])
            .await?
    );

    // Beds, reported by the centre's province, published as open data.
    let centre = "/api/v1/salud/centres/isolation/hld";
    let (status, view) = send_as(
        &server,
        "PUT",
        centre,
        &worker,
        &json!({"capacity": 120, "occupied": 30}),
    )
    .await?;
    assert_eq!(
        (status, view["occupancy_percent"].as_f64()),
        (200, Some(25.0)),
        "{view}"
    );
    let (status, _) = send_as(
        &server,
        "PUT",
        centre,
        &worker,
        &json!({"capacity": 10, "occupied": 11}),
    )
    .await?;
    assert_eq!(status, 422, "more beds taken than there are");
    let (status, _) = send_as(
        &server,
        "PUT",
        centre,
        &east,
        &json!({"capacity": 10, "occupied": 1}),
    )
    .await?;
    assert_eq!(status, 404, "not the east's centre");
    let open = server.get("/api/salud/open/centres?province=23").await?;
    let open: Value = serde_json::from_slice(&open.body)?;
    assert_eq!(open["schema"], "ceiba-salud-centros/1");
    assert_eq!(open["centres"][0]["capacity"].as_u64(), Some(120));
    assert_eq!(open["centres"][0]["occupied"].as_u64(), Some(30));

    // A transmission event, and its cases: all linked or none.
    let (status, event) = send_as(
        &server,
        "POST",
        "/api/v1/salud/events",
        &worker,
        &json!({"place": "Escuela Primaria José Martí", "municipality_code": "23.01",
                "longitude": -82.38, "latitude": 23.12}),
    )
    .await?;
    assert_eq!(status, 201, "{event}");
    let (status, _) = send_as(&server, "POST", "/api/v1/salud/events", &worker,
        &json!({"place": "Madrid", "municipality_code": "23.01", "longitude": -3.7, "latitude": 40.4})).await?;
    assert_eq!(status, 422, "not in Cuba");
    let (status, _) = send_as(
        &server,
        "POST",
        "/api/v1/salud/events",
        &worker,
        &json!({"place": "Fábrica", "municipality_code": "24.01"}),
    )
    .await?;
    assert_eq!(status, 403, "another province");
    let links = format!(
        "/api/v1/salud/events/{}/cases",
        event["id"].as_str().ok_or("id")?
    );
    let (status, linked) = send_as(
        &server,
        "POST",
        &links,
        &worker,
        &json!({"case_ids": ["p-0-0", "p-0-1"]}),
    )
    .await?;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["case_ids"], json!(["p-0-0", "p-0-1"]));
    let (status, problem) = send_as(
        &server,
        "POST",
        &links,
        &worker,
        &json!({"case_ids": ["p-0-2", "c-0"]}),
    )
    .await?;
    assert_eq!(status, 422, "{problem}");
    assert!(problem["detail"].as_str().unwrap_or("").contains("c-0"));
    let event_path = format!("/api/v1/salud/events/{}", event["id"].as_str().ok_or("id")?);
    let (_, read) = get_json(&server, &event_path, &worker).await?;
    assert_eq!(
        read["case_ids"],
        json!(["p-0-0", "p-0-1"]),
        "none of the refused request"
    );
    let (status, _) = get_json(&server, &event_path, &east).await?;
    assert_eq!(status, 404);
    server.shut_down();
    Ok(())
}

async fn the_line_listing_form_saves_a_case_once_and_says_why_it_refuses_one(
    database: TestDatabase,
) -> TestResult {
    let db = database.db.clone();
    let mut server = TestServer::start(&db).await?;
    let today = today_of(&server);
    constructed_country(&db, today).await?;
    let worker_id = active_user(&db, "+5352700001", &[Role::HealthWorker]).await?;
    assert!(
        db.set_salud_staff_provinces(&worker_id, &["23".to_owned()])
            .await?
    );
    // The health worker's authenticator app, enrolled over the API; the form takes its code.
    let (first, _) = token_of(&sign_in(&server, "+5352700001", PASSWORD, None).await?).await?;
    let secret = enrol_second_factor(&server, &first).await?;
    server.clock.advance(std::time::Duration::from_secs(30));
    let mut browser = Browser::new(&server);
    sign_in_by_form_with_code(
        &mut browser,
        "+5352700001",
        &secret.code_at(server.clock.now_s()),
    )
    .await?;
    let yesterday = today.plus_days(-1).to_string();
    let fields = |age: &'static str| {
        vec![
            ("id", "forma-1"),
            ("estado", "confirmado"),
            ("municipio", "23.01"),
            ("fecha_confirmacion", yesterday.as_str()),
            ("edad", age),
            ("sexo", "F"),
            ("fuente", "autoctono"),
        ]
    };
    let refused = browser.fill(FORM, FORM, &fields("130")).await?;
    assert_eq!(refused.status, 200);
    let page = unescape_html(&refused.text());
    assert!(page.contains("id=\"error\""), "{page}");
    assert!(page.contains("edad"), "the reason names the field");
    assert!(page.contains("value=\"forma-1\""), "what was typed is kept");
    assert!(db.salud_case("forma-1").await?.is_none(), "nothing written");

    let saved = browser.fill(FORM, FORM, &fields("30")).await?;
    let page = unescape_html(&saved.text());
    assert!(page.contains("Caso forma-1 registrado."), "{page}");
    let case = db.salud_case("forma-1").await?.ok_or("saved")?;
    assert_eq!((case.age, case.province_code.as_str()), (Some(30), "23"));
    let revision = db.salud_revision().await?;
    let again = browser.fill(FORM, FORM, &fields("30")).await?;
    assert_eq!(again.status, 200);
    assert_eq!(
        db.salud_revision().await?,
        revision,
        "the same form twice writes once"
    );
    server.shut_down();
    Ok(())
}

const FORM: &str = "/salud/casos/nuevo";

/// Polls a model run until it leaves `queued` and `running`.
async fn finished_run(server: &TestServer, id: &str, token: &str) -> Result<Value, String> {
    let path = format!("/api/v1/salud/models/runs/{id}");
    for _ in 0..600 {
        let (status, run) = get_json(server, &path, token).await?;
        assert_eq!(status, 200, "{run}");
        if !["queued", "running"].contains(&run["status"].as_str().unwrap_or("")) {
            return Ok(run);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(format!("the run {id} did not finish in 60 s"))
}

async fn models_give_rt_a_forecast_and_runs_of_scenarios_and_agents_as_jobs(
    database: TestDatabase,
) -> TestResult {
    let db = database.db.clone();
    let server = TestServer::start(&db).await?;
    let today = today_of(&server);
    constructed_country(&db, today).await?;
    // A month more of two cases a day in Plaza, so that the forecast has its 42 days.
    let earlier: Vec<Case> = (30..60)
        .flat_map(|back| {
            (0..2).map(move |n| case(format!("e-{back}-{n}"), today.plus_days(-back), "23.01"))
        })
        .collect();
    db.import_salud_cases(&earlier, "ceiba").await?;

    // Open: Rt and the forecast of the nation and of a province, not of a municipality.
    let (status, models) = get_json(&server, "/api/salud/open/models?area=23", "-").await?;
    assert_eq!(status, 200, "{models}");
    assert_eq!(models["schema"], "ceiba-salud-modelos/1");
    assert_eq!(models["last_day"], today.to_string());
    let rt = models["rt"].as_array().ok_or("rt")?;
    let last = rt.last().ok_or("an Rt")?;
    assert_eq!(last["date"], today.to_string());
    // Two cases a day for four weeks, then 25: the last week's Rt is well above 1.
    assert!(
        last["mean"].as_f64().is_some_and(|mean| mean > 1.5),
        "{last}"
    );
    assert_eq!(models["forecast_status"], "fitted");
    assert_eq!(models["forecast"].as_array().map(Vec::len), Some(28));
    let (status, _) = get_json(&server, "/api/salud/open/models?area=23.01", "-").await?;
    assert_eq!(status, 404);
    assert!(
        models["published_forecasts"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    // Three more days of data: the forecast published today is scored on them.
    let later: Vec<Case> = (1..=3)
        .flat_map(|ahead| {
            (0..4).map(move |n| case(format!("l-{ahead}-{n}"), today.plus_days(ahead), "23.01"))
        })
        .collect();
    db.import_salud_cases(&later, "ceiba").await?;
    let (status, models) = get_json(&server, "/api/salud/open/models?area=23", "-").await?;
    assert_eq!(status, 200, "{models}");
    assert_eq!(models["last_day"], today.plus_days(3).to_string());
    let published = models["published_forecasts"]
        .as_array()
        .ok_or("published")?;
    assert_eq!(published.len(), 1, "{models}");
    assert_eq!(published[0]["origin"], today.to_string());
    assert_eq!(published[0]["ensemble"]["days_scored"], 3);
    assert_eq!(published[0]["baseline"]["days_scored"], 3);
    assert!(
        published[0]["baseline"]["mean_absolute_error"]
            .as_f64()
            .is_some()
    );
    let page = server.get("/salud/modelos?area=23").await?.text();
    assert!(page.contains("<td>Publicado</td>"), "{page}");

    // Runs are for epidemiologists.
    let (_, citizen) =
        signed_in_with_second_factor(&server, &db, "+5352700001", "Ana", &[Role::Citizen]).await?;
    let (_, epidemiologist) = signed_in_with_second_factor(
        &server,
        &db,
        "+5352700002",
        "Epidemióloga",
        &[Role::Epidemiologist],
    )
    .await?;
    let post = |token: &str, body: Value| {
        let authorization = format!("Bearer {token}");
        let server = &server;
        async move {
            server
                .send_json(
                    "POST",
                    "/api/v1/salud/models/runs",
                    &body,
                    &[("authorization", authorization.as_str())],
                )
                .await
        }
    };
    let seir = json!({"model": "seir", "parameters": {"days": 120}});
    let refused = post(&citizen, seir.clone()).await?;
    assert_problem(&refused, 403, "forbidden", "/api/v1/salud/models/runs");
    for (body, field) in [
        (json!({"model": "sir", "parameters": {}}), "model"),
        (
            json!({"model": "seir", "parameters": {"days": 0}}),
            "parameters.days",
        ),
        (
            json!({"model": "seir", "parameters": {"days": 10, "colour": 1}}),
            "colour",
        ),
        (
            json!({"model": "seir", "parameters": {"days": 10, "calibrate_days": 3}}),
            "parameters.calibrate_days",
        ),
        (
            json!({"model": "abm", "parameters": {"population": 0, "days": 10}}),
            "parameters.population",
        ),
        (
            json!({"model": "abm", "parameters": {"population": 1000, "days": 10,
                   "params": {"r0": -1.0}}}),
            "r0",
        ),
    ] {
        let response = post(&epidemiologist, body.clone()).await?;
        let problem = assert_problem(
            &response,
            422,
            "validation_failed",
            "/api/v1/salud/models/runs",
        );
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains(field)),
            "{body}: {problem}"
        );
    }
    assert!(
        db.model_runs(10).await?.is_empty(),
        "a refused run is not recorded"
    );

    // Scenarios: the default three, recorded with their parameters and revision.
    let started = post(&epidemiologist, seir).await?;
    assert_eq!(started.status, 202, "{}", started.text());
    let run: Value = serde_json::from_slice(&started.body).map_err(|e| e.to_string())?;
    let id = run["id"].as_str().ok_or("id")?.to_owned();
    let done = finished_run(&server, &id, &epidemiologist).await?;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["parameters"]["r0"], 2.0, "defaults filled in");
    assert_eq!(done["data_revision"], db.salud_revision().await?);
    let scenarios = done["result"]["scenarios"].as_array().ok_or("scenarios")?;
    let names: Vec<&str> = scenarios
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["Favorable", "Medio", "Crítico"]);
    let totals: Vec<f64> = scenarios
        .iter()
        .filter_map(|s| s["total_cases"].as_f64())
        .collect();
    assert!(totals[0] < totals[1] && totals[1] < totals[2], "{totals:?}");
    assert_eq!(done["result"]["patches"], 2, "the two provinces");
    assert_eq!(done["result"]["population"], 180_000);
    let chart = done["chart"].as_str().ok_or("chart")?;
    let page = server
        .get_with(
            chart,
            &[("authorization", format!("Bearer {epidemiologist}").as_str())],
        )
        .await?;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("<svg") && page.text().contains("Crítico"));

    // A supplied mobility matrix, checked by the model: one of the wrong size fails the run
    // with the reason.
    let matrix = json!({"model": "seir", "parameters": {"days": 30,
        "mobility": {"matrix": [[1.0, 0.0], [0.0, 1.0]]}}});
    let started = post(&epidemiologist, matrix).await?;
    let run: Value = serde_json::from_slice(&started.body).map_err(|e| e.to_string())?;
    let done = finished_run(&server, run["id"].as_str().ok_or("id")?, &epidemiologist).await?;
    assert_eq!(done["status"], "done", "{done}");
    let wrong = json!({"model": "seir", "parameters": {"days": 30,
        "mobility": {"matrix": [[1.0]]}}});
    let started = post(&epidemiologist, wrong).await?;
    let run: Value = serde_json::from_slice(&started.body).map_err(|e| e.to_string())?;
    let failed = finished_run(&server, run["id"].as_str().ok_or("id")?, &epidemiologist).await?;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|error| error.contains("matri")),
        "{failed}"
    );

    // R0 fitted to the last two weeks of cases before the scenarios start.
    let calibrated = json!({"model": "seir", "parameters": {"days": 60, "calibrate_days": 14}});
    let started = post(&epidemiologist, calibrated).await?;
    assert_eq!(started.status, 202, "{}", started.text());
    let run: Value = serde_json::from_slice(&started.body).map_err(|e| e.to_string())?;
    let done = finished_run(&server, run["id"].as_str().ok_or("id")?, &epidemiologist).await?;
    assert_eq!(done["status"], "done", "{done}");
    let fit = &done["result"]["calibration"];
    assert_eq!(fit["days"], 14);
    let r0 = fit["r0"].as_f64().ok_or("r0")?;
    assert!((0.3..=10.0).contains(&r0), "{fit}");
    assert_eq!(
        done["result"]["scenarios"][2]["r0"], fit["r0"],
        "the critical scenario runs at the fitted R0"
    );

    // The agent-based model on a small synthetic population, to the end.
    let abm = json!({"model": "abm", "parameters": {"population": 20_000, "days": 40, "seed": 7}});
    let started = post(&epidemiologist, abm).await?;
    assert_eq!(started.status, 202, "{}", started.text());
    let run: Value = serde_json::from_slice(&started.body).map_err(|e| e.to_string())?;
    let done = finished_run(&server, run["id"].as_str().ok_or("id")?, &epidemiologist).await?;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["agents"], 20_000);
    assert_eq!(
        done["result"]["new_infections"].as_array().map(Vec::len),
        Some(40),
        "one entry a day, day 0 holding the first infections"
    );

    // A long run cancelled: it stops, stays cancelled, and cannot be cancelled twice.
    let long = json!({"model": "abm", "parameters": {"population": 2_000_000, "days": 3_000}});
    let started = post(&epidemiologist, long).await?;
    assert_eq!(started.status, 202, "{}", started.text());
    let run: Value = serde_json::from_slice(&started.body).map_err(|e| e.to_string())?;
    let path = format!(
        "/api/v1/salud/models/runs/{}",
        run["id"].as_str().ok_or("id")?
    );
    let authorization = format!("Bearer {epidemiologist}");
    let cancelled = server
        .send_json(
            "DELETE",
            &path,
            &Value::Null,
            &[("authorization", authorization.as_str())],
        )
        .await?;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    let done = finished_run(&server, run["id"].as_str().ok_or("id")?, &epidemiologist).await?;
    assert_eq!(done["status"], "cancelled", "{done}");
    assert!(done["result"].is_null());
    let again = server
        .send_json(
            "DELETE",
            &path,
            &Value::Null,
            &[("authorization", authorization.as_str())],
        )
        .await?;
    assert_problem(&again, 409, "conflict", &path);
    let (status, list) = get_json(&server, "/api/v1/salud/models/runs", &epidemiologist).await?;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(6));
    Ok(())
}
