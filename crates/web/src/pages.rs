//! Server-rendered pages. Templates live in `templates/` and are checked at compile time.

use std::sync::LazyLock;

use askama::Template;
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::i18n::{LANG_COOKIE, Lang, Texts};
use crate::problem::{ApiError, ErrorCode};

const STYLESHEET: &str = include_str!("../static/ceiba.css");

/// The stylesheet's address carries a hash of its content, so browsers may keep it for a year
/// and still see a new one the moment it changes: one download per version on a paid link.
pub static STYLESHEET_PATH: LazyLock<String> =
    LazyLock::new(|| format!("/static/ceiba.{:016x}.css", fnv1a(STYLESHEET.as_bytes())));

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What every page's frame (`base.html`) shows.
#[derive(Debug)]
pub struct Frame {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub t: &'static Texts,
    pub css_href: &'static str,
    /// Whether the header links to the account page rather than to the sign-in form.
    pub signed_in: bool,
}

impl Frame {
    pub fn new(lang: Lang) -> Frame {
        Frame {
            lang: lang.code(),
            other_lang: lang.other().code(),
            t: lang.texts(),
            css_href: STYLESHEET_PATH.as_str(),
            signed_in: false,
        }
    }

    /// The frame of a page that does not check the session: a session cookie is taken at its
    /// word for the header's link (the account page checks it, and sends to the sign-in form
    /// when it is not valid).
    pub fn for_request(lang: Lang, headers: &HeaderMap) -> Frame {
        Frame {
            signed_in: crate::auth::cookie(headers, crate::auth::SESSION_COOKIE)
                .is_some_and(|value| !value.is_empty()),
            ..Frame::new(lang)
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    frame: Frame,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    frame: Frame,
    heading: &'a str,
    message: &'a str,
    request_id: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub struct LangChoice {
    lang: Option<String>,
}

/// The language of a page request, from the `lang` parameter, the cookie or the browser.
pub fn page_lang(query: Option<&str>, headers: &HeaderMap) -> Lang {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == LANG_COOKIE).then_some(value)
        });
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    Lang::negotiate(query, cookie, accept)
}

pub(crate) fn html(
    status: StatusCode,
    lang: Lang,
    body: Result<String, askama::Error>,
) -> Response {
    match body {
        Ok(body) => {
            let mut response = (status, Html(body)).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_LANGUAGE,
                HeaderValue::from_static(lang.code()),
            );
            headers.insert(
                header::VARY,
                HeaderValue::from_static("Accept-Language, Cookie"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "a page template failed to render");
            ApiError::new(ErrorCode::Internal).into_response()
        }
    }
}

pub async fn home(Query(choice): Query<LangChoice>, headers: HeaderMap) -> Response {
    let chosen = choice.lang.as_deref().and_then(Lang::parse);
    let lang = page_lang(choice.lang.as_deref(), &headers);
    let page = HomePage {
        frame: Frame::for_request(lang, &headers),
    };
    let mut response = html(StatusCode::OK, lang, page.render());
    remember_lang_choice(&mut response, chosen);
    response
}

/// Remembers an explicit choice of language (the `lang` parameter) in a cookie, so the next
/// page needs no parameter.
pub(crate) fn remember_lang_choice(response: &mut Response, chosen: Option<Lang>) {
    if let Some(chosen) = chosen {
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Strict; HttpOnly",
            chosen.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The HTML page for an error outside `/api`.
pub fn error_page(error: &ApiError, lang: Lang, request_id: Option<&str>) -> Response {
    let entry = error.code.entry();
    let texts = lang.texts();
    let heading = if error.code == ErrorCode::NotFound {
        texts.not_found_title
    } else {
        texts.error_title
    };
    let message = match lang {
        Lang::Es => entry.title_es,
        Lang::En => entry.title_en,
    };
    let page = ErrorPage {
        frame: Frame::new(lang),
        heading,
        message,
        request_id,
    };
    html(entry.status, lang, page.render())
}
