//! In-process HTTP tests of `ceiba-web`: each test starts the whole router, every layer
//! included, on a loopback port and talks to it over real sockets, so what is checked is what
//! a browser or a scraper would see on the wire. Each runs on SQLite and, when
//! `CEIBA_TEST_POSTGRES_URL` is set, on PostgreSQL, since the app always holds a database.

use std::time::{Duration, Instant};

use ceiba_store::Db;
use ceiba_testkit::each_engine;
use ceiba_testkit::http::{Response, send};
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::ServerLimits;

mod support;
use serde_json::Value;
use support::{AUDIT_SIGNER, CSP_PATH, TestServer, assert_problem};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Registers each test under its function's name, once per engine.
fn main() {
    let mut suite = Suite::new();

    // Operation: probes, metrics and the API's own description.
    each_engine!(suite:
        healthz_answers_ok,
        readyz_names_the_engine,
        readyz_is_503_once_the_database_is_closed,
        metrics_count_requests_by_route_and_status,
        openapi_lists_every_json_route,
    );
    // Errors: one problem+json shape, from one table.
    each_engine!(suite:
        unknown_api_path_is_a_404_problem,
        problem_title_follows_accept_language,
        wrong_method_is_405_with_allow,
        problem_codes_are_unique,
    );
    // CSP reports: the one JSON body the API takes today, and so where body limits show.
    each_engine!(suite:
        csp_report_is_accepted_and_counted,
        csp_report_malformed_json_is_400,
        csp_report_not_a_report_is_422,
        csp_report_wrong_content_type_is_415,
        body_over_the_server_limit_is_413,
        chunked_body_over_the_server_limit_is_413,
        csp_report_over_its_own_limit_is_413,
    );
    // Request limits that layers enforce, not handlers.
    each_engine!(suite: oversized_headers_are_431, slow_request_body_is_408);
    // What every response carries.
    each_engine!(suite: request_id_is_made_or_echoed, security_headers_on_every_response);
    // Pages.
    each_engine!(suite:
        home_page_is_spanish_and_small,
        home_page_follows_accept_language,
        lang_choice_is_remembered_in_a_cookie,
        stylesheet_is_immutable_css,
        unknown_page_is_a_spanish_404_page,
    );
    // The audit log's public routes.
    each_engine!(suite:
        audit_checkpoint_is_404_until_one_is_signed,
        audit_checkpoint_verifies_with_the_served_key,
        audit_proofs_verify,
        audit_proof_bad_input_is_a_problem,
    );
    // Rate limits per client address.
    each_engine!(suite:
        sensitive_routes_are_rate_limited_per_address,
        forwarded_addresses_count_only_behind_trusted_proxies,
    );
    // Lifecycle.
    each_engine!(suite:
        graceful_shutdown_finishes_requests_in_flight,
        unfinished_headers_are_cut_off,
    );

    suite.run()
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A valid legacy (`report-uri`) CSP report, as a browser sends it.
const CSP_REPORT: &str = concat!(
    r#"{"csp-report":{"document-uri":"http://x/","#,
    r#""violated-directive":"script-src 'none'","blocked-uri":"inline"}}"#
);

/// Whether a value looks like the UUID `MakeRequestUuid` makes: 8-4-4-4-12 hex digits.
/// The answer's content type starts with `expected` (parameters such as charset may follow).
fn assert_content_type(response: &Response, expected: &str) {
    assert!(
        response
            .header("content-type")
            .is_some_and(|value| value.starts_with(expected)),
        "expected {expected}: {:?}",
        response.headers
    );
}

fn looks_like_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, char)| match index {
            8 | 13 | 18 | 23 => char == '-',
            _ => char.is_ascii_hexdigit(),
        })
}

/// The stylesheet's address as the page links it.
fn stylesheet_href(page: &str) -> Option<&str> {
    const LINK: &str = r#"<link rel="stylesheet" href=""#;
    let start = page.find(LINK)? + LINK.len();
    let length = page[start..].find('"')?;
    Some(&page[start..start + length])
}

/// Reads one response off a raw socket: up to its end by `content-length` (or chunked
/// terminator, or none for 204), or until the server closes; at most 5 s.
async fn read_raw_response(stream: &mut TcpStream) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut bytes = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        if let Some(length) = complete_response_length(&bytes) {
            bytes.truncate(length);
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let read = tokio::time::timeout(left, stream.read(&mut chunk))
            .await
            .map_err(|_| {
                format!(
                    "no complete response in 5 s; so far: {:?}",
                    String::from_utf8_lossy(&bytes)
                )
            })?
            .map_err(|error| format!("reading the response: {error}"))?;
        if read == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..read]);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn complete_response_length(bytes: &[u8]) -> Option<usize> {
    let head_end = bytes.windows(4).position(|window| window == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
    if head.starts_with("http/1.1 204") || head.starts_with("http/1.1 304") {
        return Some(head_end);
    }
    let content_length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok());
    match content_length {
        Some(length) => (bytes.len() >= head_end + length).then_some(head_end + length),
        None if head.contains("transfer-encoding: chunked") => {
            bytes.ends_with(b"\r\n0\r\n\r\n").then_some(bytes.len())
        }
        None => None,
    }
}

/// The request head of a CSP report with a `Content-Length` of `length`.
fn csp_request_head(length: usize) -> String {
    format!(
        "POST {CSP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/csp-report\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

// ---------------------------------------------------------------------------------------------
// Operation
// ---------------------------------------------------------------------------------------------

/// Liveness must not depend on anything but the process answering.
async fn healthz_answers_ok(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server.get("/healthz").await?;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_content_type(&response, "application/json");
    assert_eq!(response.json()?["status"], "ok");
    Ok(())
}

/// Readiness reports which engine answered, so an operator sees a misconfigured URL at once.
async fn readyz_names_the_engine(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server.get("/readyz").await?;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json()?;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], database.engine().as_str());
    assert!(
        matches!(body["database"].as_str(), Some("sqlite" | "postgresql")),
        "{body}"
    );
    Ok(())
}

/// A lost database must take the instance out of the load balancer, with a problem saying why.
async fn readyz_is_503_once_the_database_is_closed(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    assert_eq!(server.get("/readyz").await?.status, 200);
    database.db.close().await;
    let response = server.get("/readyz").await?;
    let problem = assert_problem(&response, 503, "database_unavailable", "/readyz");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| !detail.is_empty()),
        "{problem}"
    );
    // Liveness stays up: restarting the process would not bring the database back.
    assert_eq!(server.get("/healthz").await?.status, 200);
    Ok(())
}

/// Requests are counted by route pattern and status (unmatched paths under one label, so a
/// scanner cannot blow up the label set) and timed in a histogram.
async fn metrics_count_requests_by_route_and_status(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    assert_eq!(server.get("/healthz").await?.status, 200);
    assert_eq!(server.get("/healthz").await?.status, 200);
    assert_eq!(server.get("/nope").await?.status, 404);
    assert_eq!(server.get("/nope/again").await?.status, 404);

    let response = server.get("/metrics").await?;
    assert_eq!(response.status, 200);
    assert_content_type(&response, "application/openmetrics-text");
    let text = response.text();
    let has_line = |line: &str| text.lines().any(|candidate| candidate == line);
    assert!(
        has_line(r#"ceiba_http_requests_total{method="GET",route="/healthz",status="200"} 2"#),
        "{text}"
    );
    assert!(
        has_line(r#"ceiba_http_requests_total{method="GET",route="unmatched",status="404"} 2"#),
        "{text}"
    );
    assert!(
        !text.contains("/nope"),
        "raw paths must not become labels: {text}"
    );
    assert!(
        text.lines().any(
            |line| line.starts_with("ceiba_http_request_duration_seconds_bucket{")
                && line.contains(r#"route="/healthz""#)
        ),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics ends with # EOF: {text}"
    );
    Ok(())
}

/// Every JSON route is in the OpenAPI document served, and that is the one the code builds.
async fn openapi_lists_every_json_route(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server.get("/api/openapi.json").await?;
    assert_eq!(response.status, 200);
    assert_content_type(&response, "application/json");
    let document = response.json()?;
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|version| version.starts_with("3.1")),
        "{}",
        document["openapi"]
    );
    let paths = document["paths"]
        .as_object()
        .ok_or("the document has no paths")?;
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/problems",
        CSP_PATH,
        "/api/openapi.json",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys()
        );
    }
    assert!(paths[CSP_PATH]["post"].is_object(), "{}", paths[CSP_PATH]);
    assert!(
        paths["/healthz"]["get"].is_object(),
        "{}",
        paths["/healthz"]
    );

    // Every documented GET route exists: without its parameters or data it may refuse, but
    // never with "no such route".
    for (path, operations) in paths {
        if operations["get"].is_object() {
            let answer = server.get(path).await?;
            let unmatched = answer.status == 404
                && answer
                    .json()
                    .is_ok_and(|problem| problem["detail"].is_null());
            assert!(
                !unmatched,
                "GET {path} is documented but not routed: {}",
                answer.text()
            );
            assert!(answer.status < 500, "GET {path}: {}", answer.text());
        }
    }

    let served: Vec<&String> = paths.keys().collect();
    let built = ceiba_web::openapi_document();
    let built: Vec<&String> = built.paths.paths.keys().collect();
    assert_eq!(served, built);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Even the router's own 404 is a full problem, in Spanish unless asked otherwise.
async fn unknown_api_path_is_a_404_problem(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server.get("/api/nothing-here").await?;
    let problem = assert_problem(&response, 404, "not_found", "/api/nothing-here");
    assert!(
        problem["title"]
            .as_str()
            .is_some_and(|title| title.starts_with("No existe")),
        "{problem}"
    );
    assert_eq!(response.header("content-language"), Some("es"));
    Ok(())
}

/// The title comes from the table in the reader's language.
async fn problem_title_follows_accept_language(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let table = server.get("/api/problems").await?.json()?;
    let row = table
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["code"] == "not_found"))
        .ok_or("not_found is not in /api/problems")?
        .clone();

    let spanish = server.get("/api/nothing-here").await?;
    let spanish = assert_problem(&spanish, 404, "not_found", "/api/nothing-here");
    assert_eq!(spanish["title"], row["title_es"]);

    let english = server
        .get_with("/api/nothing-here", &[("accept-language", "en")])
        .await?;
    assert_eq!(english.header("content-language"), Some("en"));
    // Caches must keep the languages apart.
    assert!(
        english
            .header("vary")
            .is_some_and(|vary| vary.contains("Accept-Language")),
        "{:?}",
        english.headers
    );
    let english = assert_problem(&english, 404, "not_found", "/api/nothing-here");
    assert_eq!(english["title"], row["title_en"]);
    assert_eq!(english["title"], "Nothing exists at this address.");
    assert_ne!(english["title"], spanish["title"]);
    Ok(())
}

/// A 405 keeps the router's `Allow` header, so a client learns what it may do instead.
async fn wrong_method_is_405_with_allow(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = send("DELETE", &server.url("/healthz"), &[], Vec::new()).await?;
    assert_problem(&response, 405, "method_not_allowed", "/healthz");
    let allow = response.header("allow").ok_or("a 405 without Allow")?;
    assert!(
        allow.split(',').any(|method| method.trim() == "GET"),
        "allow: {allow}"
    );
    Ok(())
}

/// Clients branch on `code`, so no two rows of the published table may share one.
async fn problem_codes_are_unique(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server.get("/api/problems").await?;
    assert_eq!(response.status, 200);
    let table = response.json()?;
    let rows = table.as_array().ok_or("/api/problems is not an array")?;
    assert!(!rows.is_empty());
    let mut codes = Vec::new();
    for row in rows {
        let code = row["code"].as_str().ok_or("a row without code")?;
        let status = row["status"].as_u64().ok_or("a row without status")?;
        assert!((400..600).contains(&status), "{row}");
        for title in ["title_es", "title_en"] {
            assert!(
                row[title].as_str().is_some_and(|text| !text.is_empty()),
                "{row}"
            );
        }
        codes.push(code.to_owned());
    }
    let count = codes.len();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), count, "duplicate codes in {table}");
    // Every code these tests expect on the wire is published.
    for expected in [
        "not_found",
        "method_not_allowed",
        "malformed_json",
        "validation_failed",
        "unsupported_media_type",
        "payload_too_large",
        "headers_too_large",
        "request_timeout",
        "database_unavailable",
    ] {
        assert!(
            codes.iter().any(|code| code == expected),
            "{expected} not published"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// CSP reports
// ---------------------------------------------------------------------------------------------

/// A report is acknowledged with 204 and counted by its directive.
async fn csp_report_is_accepted_and_counted(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server
        .post_csp("application/csp-report", CSP_REPORT)
        .await?;
    assert_eq!(response.status, 204, "{}", response.text());
    assert!(response.body.is_empty());
    let metrics = server.get("/metrics").await?.text();
    assert!(
        metrics
            .lines()
            .any(|line| line == r#"ceiba_csp_violations_total{directive="script-src"} 1"#),
        "{metrics}"
    );
    Ok(())
}

async fn csp_report_malformed_json_is_400(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server
        .post_csp("application/csp-report", r#"{"csp-report":"#)
        .await?;
    let problem = assert_problem(&response, 400, "malformed_json", CSP_PATH);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| !detail.is_empty()),
        "the parser's message helps the sender: {problem}"
    );
    Ok(())
}

async fn csp_report_not_a_report_is_422(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server
        .post_csp("application/csp-report", r#"{"a":1}"#)
        .await?;
    assert_problem(&response, 422, "validation_failed", CSP_PATH);
    // Nothing was counted for a body that is not a report.
    let metrics = server.get("/metrics").await?.text();
    assert!(
        !metrics.contains("ceiba_csp_violations_total{"),
        "{metrics}"
    );
    Ok(())
}

async fn csp_report_wrong_content_type_is_415(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server.post_csp("text/plain", CSP_REPORT).await?;
    assert_problem(&response, 415, "unsupported_media_type", CSP_PATH);
    Ok(())
}

/// The server-wide body limit answers before any handler reads the body.
async fn body_over_the_server_limit_is_413(database: TestDatabase) -> TestResult {
    let limits = ServerLimits {
        body_bytes_max: 64 * 1024,
        ..ServerLimits::default()
    };
    let server = TestServer::with_limits(&database.db, limits).await?;
    let response = server
        .post_csp("application/csp-report", vec![b' '; 100 * 1024])
        .await?;
    assert_problem(&response, 413, "payload_too_large", CSP_PATH);

    // It answers from the head alone, not waiting for a body it would refuse anyway (and so
    // this is the server's limit at work, not the smaller one of CSP reports).
    let mut stream = TcpStream::connect(server.addr).await?;
    stream
        .write_all(csp_request_head(100 * 1024).as_bytes())
        .await?;
    let response = read_raw_response(&mut stream).await?;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(
        response.contains(r#""code":"payload_too_large""#),
        "{response}"
    );
    Ok(())
}

/// Without a `Content-Length` the limit still holds: the body is cut off as it streams in.
async fn chunked_body_over_the_server_limit_is_413(database: TestDatabase) -> TestResult {
    let limits = ServerLimits {
        body_bytes_max: 64 * 1024,
        ..ServerLimits::default()
    };
    let server = TestServer::with_limits(&database.db, limits).await?;
    let mut stream = TcpStream::connect(server.addr).await?;
    let mut request = format!(
        "POST {CSP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/csp-report\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    // 66 chunks of 1 KiB, past the limit, and no final chunk: the server must not wait for it.
    let chunk = format!("400\r\n{}\r\n", " ".repeat(1024));
    for _ in 0..66 {
        request.push_str(&chunk);
    }
    stream.write_all(request.as_bytes()).await?;
    let response = read_raw_response(&mut stream).await?;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(
        response.contains(r#""code":"payload_too_large""#),
        "{response}"
    );
    Ok(())
}

/// A CSP report has its own, smaller limit under the server's.
async fn csp_report_over_its_own_limit_is_413(database: TestDatabase) -> TestResult {
    let limits = ServerLimits {
        body_bytes_max: 64 * 1024,
        ..ServerLimits::default()
    };
    let server = TestServer::with_limits(&database.db, limits).await?;
    let response = server
        .post_csp("application/csp-report", vec![b' '; 20 * 1024])
        .await?;
    let problem = assert_problem(&response, 413, "payload_too_large", CSP_PATH);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("16384")),
        "{problem}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Request limits
// ---------------------------------------------------------------------------------------------

/// Headers over the limit (16 KiB by default) are refused with the table's 431.
async fn oversized_headers_are_431(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let padding = "a".repeat(20_000);
    let response = server
        .get_with("/healthz", &[("x-padding", &padding)])
        .await?;
    assert_problem(&response, 431, "headers_too_large", "/healthz");
    // Headers just under the limit pass.
    let padding = "a".repeat(15_000);
    let response = server
        .get_with("/healthz", &[("x-padding", &padding)])
        .await?;
    assert_eq!(response.status, 200, "{}", response.text());
    Ok(())
}

/// A client that stops sending its body mid-way is answered 408 at the timeout, not held
/// forever. (The timeout starts once the request head has arrived; a head that never ends is
/// not covered by it.)
async fn slow_request_body_is_408(database: TestDatabase) -> TestResult {
    let limits = ServerLimits {
        request_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    };
    let server = TestServer::with_limits(&database.db, limits).await?;
    let mut stream = TcpStream::connect(server.addr).await?;
    let started = Instant::now();
    stream.write_all(csp_request_head(100).as_bytes()).await?;
    stream.write_all(b"0123456789").await?;
    let response = read_raw_response(&mut stream).await?;
    let elapsed = started.elapsed();
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("request_timeout"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{response}"
    );
    assert!(
        elapsed >= Duration::from_millis(250),
        "answered after {elapsed:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// On every response
// ---------------------------------------------------------------------------------------------

/// Every answer carries an id to quote when asking for help; a proxy's id is kept.
async fn request_id_is_made_or_echoed(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let mut seen = Vec::new();
    for path in ["/", "/healthz", "/api/nothing-here", "/no-existe", CSP_PATH] {
        let response = if path == CSP_PATH {
            server
                .post_csp("application/csp-report", CSP_REPORT)
                .await?
        } else {
            server.get(path).await?
        };
        let id = response
            .header("x-request-id")
            .ok_or_else(|| format!("{path}: no x-request-id"))?
            .to_owned();
        assert!(looks_like_uuid(&id), "{path}: {id}");
        seen.push(id);
    }
    let count = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), count, "each request gets its own id");

    let response = server
        .get_with("/healthz", &[("x-request-id", "abc-123")])
        .await?;
    assert_eq!(response.header("x-request-id"), Some("abc-123"));
    // Also inside a problem, where a person copies it from.
    let response = server
        .get_with("/api/nothing-here", &[("x-request-id", "abc-123")])
        .await?;
    assert_eq!(response.header("x-request-id"), Some("abc-123"));
    assert_eq!(response.json()?["request_id"], "abc-123");
    Ok(())
}

/// Pages, API answers and errors of both kinds carry the same security headers.
async fn security_headers_on_every_response(database: TestDatabase) -> TestResult {
    let csp = ceiba_web::CONTENT_SECURITY_POLICY;
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("script-src"), "no script may run: {csp}");

    let server = TestServer::start(&database.db).await?;
    let home = server.get("/").await?;
    let stylesheet = stylesheet_href(&home.text())
        .ok_or("the home page links no stylesheet")?
        .to_owned();
    let responses = [
        ("/", home),
        ("stylesheet", server.get(&stylesheet).await?),
        ("/healthz", server.get("/healthz").await?),
        ("/api/nothing-here", server.get("/api/nothing-here").await?),
        ("/no-existe", server.get("/no-existe").await?),
        (
            "DELETE /healthz",
            send("DELETE", &server.url("/healthz"), &[], Vec::new()).await?,
        ),
    ];
    for (what, response) in &responses {
        assert_eq!(
            response.header("content-security-policy"),
            Some(csp),
            "{what}"
        );
        assert_eq!(
            response.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            response.header("referrer-policy"),
            Some("no-referrer"),
            "{what}"
        );
        assert_eq!(response.header("x-frame-options"), Some("DENY"), "{what}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

/// Spanish by default, no script, and light enough for a slow, paid connection.
async fn home_page_is_spanish_and_small(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server.get("/").await?;
    assert_eq!(response.status, 200);
    assert_content_type(&response, "text/html");
    assert_eq!(
        response.header("content-encoding"),
        None,
        "not asked to compress"
    );
    let page = response.text();
    assert!(page.contains(r#"<html lang="es">"#), "{page}");
    for text in ["Pagos", "Salud", "Enciclopedia"] {
        assert!(page.contains(text), "{text} missing: {page}");
    }
    let href = stylesheet_href(&page).ok_or("no stylesheet link")?;
    assert!(
        href.starts_with("/static/ceiba.") && href.ends_with(".css"),
        "{href}"
    );
    assert!(!page.to_ascii_lowercase().contains("<script"), "{page}");
    assert!(
        response.body.len() < 30_000,
        "{} bytes",
        response.body.len()
    );

    let compressed = server.get_with("/", &[("accept-encoding", "gzip")]).await?;
    assert_eq!(compressed.status, 200);
    assert_eq!(compressed.header("content-encoding"), Some("gzip"));
    assert!(
        compressed.body.starts_with(&[0x1f, 0x8b]),
        "not a gzip stream"
    );
    assert!(
        compressed.body.len() < 30_000,
        "{} bytes",
        compressed.body.len()
    );
    assert!(
        compressed.body.len() < response.body.len(),
        "gzip {} bytes, plain {}",
        compressed.body.len(),
        response.body.len()
    );
    Ok(())
}

async fn home_page_follows_accept_language(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server
        .get_with("/", &[("accept-language", "en-US,en;q=0.9")])
        .await?;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-language"), Some("en"));
    let page = response.text();
    assert!(page.contains(r#"<html lang="en">"#), "{page}");
    for text in ["Payments", "Health", "Encyclopedia"] {
        assert!(page.contains(text), "{text} missing: {page}");
    }
    assert!(!page.contains("Enciclopedia"), "{page}");
    Ok(())
}

/// An explicit choice sticks across pages without a parameter, and the cookie is not
/// readable by script nor sent cross-site.
async fn lang_choice_is_remembered_in_a_cookie(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let chosen = server.get("/?lang=en").await?;
    assert_eq!(chosen.status, 200);
    assert!(chosen.text().contains(r#"<html lang="en">"#));
    let cookie = chosen.header("set-cookie").ok_or("no set-cookie")?;
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert_eq!(attributes.first(), Some(&"ceiba_lang=en"), "{cookie}");
    assert!(attributes.contains(&"HttpOnly"), "{cookie}");
    assert!(attributes.contains(&"SameSite=Strict"), "{cookie}");

    let later = server.get_with("/", &[("cookie", "ceiba_lang=en")]).await?;
    assert_eq!(later.status, 200);
    let page = later.text();
    assert!(page.contains(r#"<html lang="en">"#), "{page}");
    assert!(page.contains("Payments"), "{page}");
    assert_eq!(later.header("set-cookie"), None, "nothing new to remember");

    // Without the cookie, the same request is Spanish again.
    assert!(
        server
            .get("/")
            .await?
            .text()
            .contains(r#"<html lang="es">"#)
    );
    Ok(())
}

/// The stylesheet's address changes with its content, so it may be cached for good.
async fn stylesheet_is_immutable_css(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let page = server.get("/").await?.text();
    let href = stylesheet_href(&page).ok_or("no stylesheet link")?;
    let response = server.get(href).await?;
    assert_eq!(response.status, 200);
    assert_content_type(&response, "text/css");
    assert!(
        response
            .header("cache-control")
            .is_some_and(|value| value.contains("immutable")),
        "{:?}",
        response.headers
    );
    assert!(response.text().contains("body"), "an empty stylesheet");
    Ok(())
}

/// Outside `/api` an error is a page a person can read, not JSON.
async fn unknown_page_is_a_spanish_404_page(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server.get("/no-existe").await?;
    assert_eq!(response.status, 404);
    assert_content_type(&response, "text/html");
    let page = response.text();
    assert!(page.contains(r#"<html lang="es">"#), "{page}");
    assert!(page.contains("Página no encontrada"), "{page}");
    let id = response.header("x-request-id").ok_or("no x-request-id")?;
    assert!(page.contains(id), "the page shows the request id: {page}");

    // The id a client sends is shown too, so it must be escaped, never markup.
    let response = server
        .get_with("/no-existe", &[("x-request-id", "<b>x</b>")])
        .await?;
    assert_eq!(response.status, 404);
    let page = response.text();
    assert!(!page.contains("<b>x</b>"), "{page}");
    assert!(
        page.contains("&#60;b&#62;x&#60;/b&#62;") || page.contains("&lt;b&gt;x&lt;/b&gt;"),
        "{page}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------

/// A deploy must not cut a request in flight: after the shutdown signal the server finishes
/// it, then stops, and takes no new connection.
async fn graceful_shutdown_finishes_requests_in_flight(database: TestDatabase) -> TestResult {
    let mut server = TestServer::start(&database.db).await?;
    // A browser's keep-alive connection, idle after its request: it must not hold the stop up.
    let mut idle = TcpStream::connect(server.addr).await?;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await?;
    let answered = read_raw_response(&mut idle).await?;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");

    let body = CSP_REPORT.as_bytes();
    let (first, rest) = body.split_at(body.len() / 2);

    let mut stream = TcpStream::connect(server.addr).await?;
    stream
        .write_all(csp_request_head(body.len()).as_bytes())
        .await?;
    stream.write_all(first).await?;
    // Let the server read the head, so the request is in flight, not a connection yet idle.
    tokio::time::sleep(Duration::from_millis(100)).await;

    server.shut_down();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !server.task.is_finished(),
        "the server stopped with a request in flight"
    );
    stream.write_all(rest).await?;
    let response = read_raw_response(&mut stream).await?;
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");

    let outcome = tokio::time::timeout(Duration::from_secs(5), &mut server.task)
        .await
        .map_err(|_| "the server did not stop within 5 s of its last request")?;
    outcome??;
    let mut rest_of_idle = Vec::new();
    let closed =
        tokio::time::timeout(Duration::from_secs(1), idle.read_to_end(&mut rest_of_idle)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "the idle connection is closed, with nothing more sent: {closed:?}"
    );
    let refused = TcpStream::connect(server.addr).await;
    assert!(
        refused.is_err(),
        "a stopped server still accepts connections"
    );
    Ok(())
}

/// A client that opens a connection and never finishes its headers (slowloris) is cut off
/// after the request timeout, and cannot hold up a graceful shutdown.
async fn unfinished_headers_are_cut_off(database: TestDatabase) -> TestResult {
    let limits = ServerLimits {
        request_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    };
    let mut server = TestServer::with_limits(&database.db, limits).await?;
    let mut stream = TcpStream::connect(server.addr).await?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await?;
    let mut received = Vec::new();
    let closed =
        tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut received)).await;
    assert!(
        matches!(closed, Ok(Ok(_))),
        "the connection stayed open 3 s with unfinished headers: {closed:?}"
    );

    // A second such client, then a shutdown: the server stops within the grace period.
    let mut lingering = TcpStream::connect(server.addr).await?;
    lingering.write_all(b"GET / HTTP/1.1\r\n").await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.shut_down();
    let outcome = tokio::time::timeout(Duration::from_secs(5), &mut server.task)
        .await
        .map_err(|_| "unfinished headers held the shutdown for 5 s")?;
    outcome??;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------------------------

/// Appends `count` events and signs a checkpoint of the result, as the maintenance job would.
async fn seed_audit_log(db: &Db, count: u64) -> Result<ceiba_store::AuditHead, String> {
    let events: Vec<Vec<u8>> = (0..count)
        .map(|number| {
            ceiba_audit::AuditEvent::new(ceiba_audit::EventKind::LoginSucceeded, 1_790_000_000_000)
                .actor(format!("usuario-{number}"))
                .to_bytes()
        })
        .collect();
    let head = db
        .append_audit(&events, 1_790_000_000_000)
        .await
        .map_err(|error| error.to_string())?;
    let checkpoint = ceiba_audit::Checkpoint::new("ceiba-auditoria", head.tree_size, head.root, 1)
        .map_err(|error| error.to_string())?;
    let signed = AUDIT_SIGNER.sign(&checkpoint);
    db.store_checkpoint(head.tree_size, &signed.to_text(), 1)
        .await
        .map_err(|error| error.to_string())?;
    Ok(head)
}

async fn audit_checkpoint_is_404_until_one_is_signed(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let response = server.get("/api/v1/audit/checkpoint").await?;
    assert_problem(&response, 404, "not_found", "/api/v1/audit/checkpoint");
    Ok(())
}

async fn audit_checkpoint_verifies_with_the_served_key(database: TestDatabase) -> TestResult {
    let head = seed_audit_log(&database.db, 9).await?;
    let server = TestServer::start(&database.db).await?;
    let response = server.get("/api/v1/audit/checkpoint").await?;
    assert_eq!(response.status, 200, "{}", response.text());
    let view = response.json()?;
    assert_eq!(view["tree_size"], 9);
    assert_eq!(view["root"], head.root.to_string());
    assert_eq!(view["origin"], "ceiba-auditoria");
    // A client checks the signature with nothing but what the server gave it.
    let key_hex = view["public_key"].as_str().ok_or("no public key")?;
    let mut key = [0_u8; 32];
    for (index, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&key_hex[index * 2..index * 2 + 2], 16)?;
    }
    let signed =
        ceiba_audit::SignedCheckpoint::parse(view["signed_text"].as_str().ok_or("no text")?)?;
    signed.verify(&key)?;
    assert_eq!(signed.checkpoint.root(), head.root);
    Ok(())
}

fn hashes(value: &Value) -> Result<Vec<ceiba_audit::Hash>, String> {
    value
        .as_array()
        .ok_or("not an array")?
        .iter()
        .map(|hash| {
            hash.as_str()
                .ok_or_else(|| "not a string".to_owned())?
                .parse()
                .map_err(|error: ceiba_audit::AuditError| error.to_string())
        })
        .collect()
}

async fn audit_proofs_verify(database: TestDatabase) -> TestResult {
    let head = seed_audit_log(&database.db, 21).await?;
    let server = TestServer::start(&database.db).await?;

    let inclusion = server
        .get("/api/v1/audit/proofs/inclusion?index=6&tree_size=21")
        .await?;
    assert_eq!(inclusion.status, 200, "{}", inclusion.text());
    let inclusion = inclusion.json()?;
    let leaf: ceiba_audit::Hash = inclusion["leaf_hash"].as_str().ok_or("leaf")?.parse()?;
    let root: ceiba_audit::Hash = inclusion["root"].as_str().ok_or("root")?.parse()?;
    assert_eq!(root, head.root);
    ceiba_audit::verify_inclusion(leaf, 6, 21, &hashes(&inclusion["audit_path"])?, root)?;

    let consistency = server
        .get("/api/v1/audit/proofs/consistency?first=8")
        .await?;
    assert_eq!(consistency.status, 200, "{}", consistency.text());
    let consistency = consistency.json()?;
    assert_eq!(consistency["second"], 21);
    let first_root: ceiba_audit::Hash = consistency["first_root"]
        .as_str()
        .ok_or("first_root")?
        .parse()?;
    ceiba_audit::verify_consistency(
        8,
        21,
        first_root,
        head.root,
        &hashes(&consistency["proof"])?,
    )?;
    Ok(())
}

async fn audit_proof_bad_input_is_a_problem(database: TestDatabase) -> TestResult {
    seed_audit_log(&database.db, 4).await?;
    let server = TestServer::start(&database.db).await?;
    let path = "/api/v1/audit/proofs/inclusion";
    for (query, status, code) in [
        ("", 400, "bad_request"),
        ("?index=uno", 400, "bad_request"),
        ("?index=-1", 400, "bad_request"),
        ("?index=4", 404, "not_found"),
        ("?index=0&tree_size=5", 404, "not_found"),
    ] {
        let response = server.get(&format!("{path}{query}")).await?;
        let problem = assert_problem(&response, status, code, path);
        assert!(problem["detail"].is_string(), "{query}: {problem}");
    }
    let response = server
        .get("/api/v1/audit/proofs/consistency?first=3&second=2")
        .await?;
    assert_problem(
        &response,
        404,
        "not_found",
        "/api/v1/audit/proofs/consistency",
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rate limits
// ---------------------------------------------------------------------------------------------

async fn limited_server(
    db: &Db,
    trusted_proxies: Vec<std::net::IpAddr>,
) -> Result<TestServer, std::io::Error> {
    let mut state = support::test_state(db);
    state.rate_limits = std::sync::Arc::new(ceiba_web::ratelimit::RateLimits::new(
        &ceiba_web::ratelimit::RateLimitSettings {
            requests_per_minute: 30,
            sensitive_requests_per_minute: 3,
            trusted_proxies,
        },
    ));
    TestServer::with_state(state, ServerLimits::default()).await
}

async fn sign_in_attempt(
    server: &TestServer,
    forwarded_for: Option<&str>,
) -> Result<Response, String> {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(address) = forwarded_for {
        headers.push(("x-forwarded-for", address));
    }
    let body = r#"{"phone":"+5351234567","password":"no-importa-cual"}"#;
    send(
        "POST",
        &server.url("/api/v1/sessions"),
        &headers,
        body.as_bytes().to_vec(),
    )
    .await
}

async fn sensitive_routes_are_rate_limited_per_address(database: TestDatabase) -> TestResult {
    let server = limited_server(&database.db, Vec::new()).await?;
    for attempt in 0..3 {
        let response = sign_in_attempt(&server, None).await?;
        assert_eq!(
            response.status,
            401,
            "attempt {attempt}: {}",
            response.text()
        );
    }
    let limited = sign_in_attempt(&server, None).await?;
    assert_problem(&limited, 429, "rate_limited", "/api/v1/sessions");
    let retry_after: u64 = limited
        .header("retry-after")
        .ok_or("no Retry-After")?
        .parse()?;
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Cheap routes still answer: the tight limit is for the expensive ones.
    assert_eq!(server.get("/healthz").await?.status, 200);
    // A forged X-Forwarded-For from an untrusted peer changes nothing.
    let forged = sign_in_attempt(&server, Some("198.51.100.7")).await?;
    assert_eq!(forged.status, 429);
    Ok(())
}

async fn forwarded_addresses_count_only_behind_trusted_proxies(
    database: TestDatabase,
) -> TestResult {
    let loopback: std::net::IpAddr = "127.0.0.1".parse()?;
    let server = limited_server(&database.db, vec![loopback]).await?;
    for _ in 0..3 {
        assert_eq!(
            sign_in_attempt(&server, Some("198.51.100.7")).await?.status,
            401
        );
    }
    assert_eq!(
        sign_in_attempt(&server, Some("198.51.100.7")).await?.status,
        429
    );
    // Behind the trusted proxy, another client has a bucket of its own.
    assert_eq!(
        sign_in_attempt(&server, Some("203.0.113.9")).await?.status,
        401
    );
    Ok(())
}
