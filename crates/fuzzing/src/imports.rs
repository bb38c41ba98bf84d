use std::collections::HashSet;

use ceiba_identity::PhoneNumber;
use ceiba_payments::files::{self, BillFields, PayoutDestination};
use ceiba_payments::{AMOUNT_MINOR_MAX, Currency, Money};
use ceiba_surveillance::covid19cubadata::{self, Date};
use ceiba_surveillance::line_list::{self, Context, LineList, ROWS_MAX};

/// Bills a test file may hold: small, so the limit is met too.
const BILLS_MAX: usize = 50;
/// Payout rows a test file may hold.
const PAYOUT_ROWS_MAX: usize = 200;

/// A bills upload as the importer reads it (`ceiba_payments::files`): as CSV with
/// `read_bills_csv`, and, when it is JSON, its `bills` array with `read_bills`. Checked: never a
/// panic; a file is read whole or refused whole with errors each naming its place; what is read
/// holds a valid reference, a positive amount within the limit, a calendar date and non-empty
/// texts, no more bills than the limit; and every cell or value of it goes through
/// `Money::parse` and `Currency::parse` as well, for their own round trips.
pub fn bills_import(data: &[u8]) {
    check_bills(files::read_bills_csv(data, BILLS_MAX), "línea ");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(data);
    let _ = reader
        .headers()
        .map(|header| header.iter().for_each(money_and_currency));
    for record in reader.records().take(ROWS_MAX).flatten() {
        record.iter().for_each(money_and_currency);
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        json_texts(&value, &mut |text| money_and_currency(text));
        if let Some(bills) = value["bills"].as_array() {
            let text = |bill: &serde_json::Value, field: &str| -> String {
                match &bill[field] {
                    serde_json::Value::String(text) => text.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                }
            };
            let owned: Vec<[String; 5]> = bills
                .iter()
                .map(|bill| {
                    ["reference", "customer", "amount", "due_date", "period"]
                        .map(|field| text(bill, field))
                })
                .collect();
            let fields: Vec<BillFields<'_>> = owned
                .iter()
                .zip(bills)
                .map(
                    |([reference, customer, amount, due_date, period], bill)| BillFields {
                        reference,
                        customer,
                        amount,
                        due_date,
                        period,
                        currency: bill["currency"].as_str(),
                    },
                )
                .collect();
            check_bills(files::read_bills(&fields, BILLS_MAX), "factura ");
        }
    }
}

fn check_bills(read: Result<Vec<files::BillLine>, Vec<String>>, place: &str) {
    match read {
        Ok(bills) => {
            assert!(bills.len() <= BILLS_MAX);
            for bill in &bills {
                assert!(bill.place.starts_with(place), "{bill:?}");
                assert_eq!(
                    files::bill_reference(&bill.reference).as_ref(),
                    Ok(&bill.reference)
                );
                assert!(
                    (1..=AMOUNT_MINOR_MAX).contains(&bill.amount_minor),
                    "{bill:?}"
                );
                assert!(
                    bill.due_date.parse::<jiff::civil::Date>().is_ok(),
                    "{bill:?}"
                );
                assert!(!bill.customer_name.is_empty() && !bill.period.is_empty());
                assert!(
                    !bill.customer_name.chars().any(char::is_control),
                    "{bill:?}"
                );
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            assert!(errors.len() <= BILLS_MAX + 1);
            for error in &errors {
                assert!(
                    error.starts_with(place) || error.starts_with("una carga"),
                    "{error:?}"
                );
            }
        }
    }
}

/// A payouts file as the importer reads it (`ceiba_payments::files::read_payout_csv`, in each
/// currency). Checked: never a panic; a refusal has its reason; otherwise at most the limit of
/// rows, lines increasing from 2, and each row either has its error or a destination (a valid
/// phone number in E.164 or 16 digits), a positive amount in the file's currency and a short
/// reference. Every cell also goes through the phone and money parsers' round trips.
pub fn payouts_import(data: &[u8]) {
    for currency in [Currency::Cup, Currency::Usd, Currency::Mlc] {
        let rows = match files::read_payout_csv(data, currency, PAYOUT_ROWS_MAX) {
            Ok(rows) => rows,
            Err(reason) => {
                assert!(!reason.is_empty());
                continue;
            }
        };
        assert!(!rows.is_empty() && rows.len() <= PAYOUT_ROWS_MAX);
        assert!(rows.windows(2).all(|pair| pair[0].line < pair[1].line));
        assert!(rows[0].line >= 2);
        for row in &rows {
            assert!(row.recipient.chars().count() <= 40);
            if let Some(error) = &row.error {
                assert!(!error.is_empty());
                continue;
            }
            match row
                .destination
                .as_ref()
                .expect("a payable row has a destination")
            {
                PayoutDestination::Phone(phone) => {
                    assert_eq!(
                        PhoneNumber::parse(phone)
                            .map(|p| p.as_e164().to_owned())
                            .as_ref(),
                        Ok(phone)
                    );
                }
                PayoutDestination::Account(digits) => {
                    assert!(
                        digits.len() == files::ACCOUNT_NUMBER_DIGITS
                            && digits.bytes().all(|b| b.is_ascii_digit())
                    );
                }
            }
            let amount = row.amount.expect("a payable row has an amount");
            assert_eq!(amount.currency, currency);
            assert!((1..=AMOUNT_MINOR_MAX).contains(&amount.minor));
            assert!(row.reference.chars().count() <= files::PAYOUT_REFERENCE_CHARS_MAX);
        }
    }
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    for record in reader.into_records().take(ROWS_MAX).flatten() {
        for cell in &record {
            phone_roundtrip(cell);
            money_and_currency(cell);
        }
    }
}

fn json_texts(value: &serde_json::Value, visit: &mut dyn FnMut(&str)) {
    match value {
        serde_json::Value::String(text) => visit(text),
        serde_json::Value::Number(number) => visit(&number.to_string()),
        serde_json::Value::Array(items) => items.iter().for_each(|item| json_texts(item, visit)),
        serde_json::Value::Object(fields) => fields.iter().for_each(|(key, item)| {
            visit(key);
            json_texts(item, visit);
        }),
        serde_json::Value::Null | serde_json::Value::Bool(_) => {}
    }
}

fn money_and_currency(text: &str) {
    for currency in [Currency::Cup, Currency::Usd, Currency::Mlc] {
        let parsed = Money::parse(text, currency);
        // The decimal comma and the decimal point are the same amount.
        assert_eq!(
            parsed,
            Money::parse(&text.replace(',', "."), currency),
            "{text:?}"
        );
        match parsed {
            Ok(money) => {
                assert_eq!(money.currency, currency);
                assert!((1..=AMOUNT_MINOR_MAX).contains(&money.minor), "{text:?}");
                // `1234.50 CUP`: the ASCII form without its code reads back the same.
                let ascii = money.ascii();
                let number = ascii.split(' ').next().unwrap_or_default();
                assert_eq!(Money::parse(number, currency), Ok(money), "{text:?}");
            }
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
    match Currency::parse(text) {
        Ok(currency) => assert_eq!(Currency::parse(currency.code()), Ok(currency)),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}

fn phone_roundtrip(text: &str) {
    if let Ok(phone) = PhoneNumber::parse(text) {
        assert_eq!(PhoneNumber::parse(phone.as_e164()).as_ref(), Ok(&phone));
    }
}

/// The day line lists are checked against: fixed, so runs replay.
const TODAY: Date = Date {
    year: 2026,
    month: 11,
    day: 30,
};

/// Municipalities `PP.MM` of provinces 21 to 40 exist, in province `PP`.
fn province_of(code: &str) -> Option<String> {
    let bytes = code.as_bytes();
    let shaped = bytes.len() == 5
        && bytes[2] == b'.'
        && [0, 1, 3, 4].iter().all(|at| bytes[*at].is_ascii_digit());
    let province = code.get(..2)?;
    (shaped && ("21"..="40").contains(&province)).then(|| province.to_owned())
}

fn context() -> Context<'static> {
    Context {
        province_of: &province_of,
        today: TODAY,
    }
}

/// A CSV line list (`ceiba_surveillance::line_list::read_csv`). Checked as [`cases_json`]; and
/// when every row reads, the same rows sent as JSON give the same cases and the same refusals.
pub fn cases_csv(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let context = context();
    let Ok(list) = check_list(line_list::read_csv(&text, &context), 2) else {
        return;
    };
    // The same rows as a JSON array, read with the importer's CSV settings.
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let Ok(header) = reader.headers().cloned() else {
        return;
    };
    let mut objects = Vec::new();
    for record in reader.records() {
        let Ok(record) = record else { return };
        if record.len() != header.len() {
            return;
        }
        let mut object = serde_json::Map::new();
        for (name, cell) in header.iter().zip(&record) {
            let name = name.trim_start_matches('\u{feff}').to_lowercase();
            object.insert(name, serde_json::Value::String(cell.to_owned()));
        }
        objects.push(serde_json::Value::Object(object));
    }
    let json = serde_json::Value::Array(objects).to_string();
    let from_json = line_list::read_json(&json, &context).expect("the same rows read as JSON");
    let shifted = |list: &LineList| {
        (
            list.entries
                .iter()
                .map(|(line, entry)| (line - 1, entry.clone()))
                .collect::<Vec<_>>(),
            list.errors
                .iter()
                .map(|error| (error.line - 1, error.id.clone()))
                .collect::<Vec<_>>(),
        )
    };
    let json_view = (
        from_json.entries.clone(),
        from_json
            .errors
            .iter()
            .map(|error| (error.line, error.id.clone()))
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        shifted(&list),
        json_view,
        "CSV and JSON read the same rows apart"
    );
}

/// A JSON line list (`ceiba_surveillance::line_list::read_json`). Checked: never a panic;
/// every row is a case or a refusal with its line; no more rows than the limit; a case has a
/// valid id, a known municipality in its province, an age within 0–120, dates in order and not
/// after today, and no id twice.
pub fn cases_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = check_list(line_list::read_json(&text, &context()), 1);
}

fn check_list(
    read: Result<LineList, line_list::LineListError>,
    first_line: u64,
) -> Result<LineList, ()> {
    let list = match read {
        Ok(list) => list,
        Err(error) => {
            assert!(!error.to_string().is_empty());
            return Err(());
        }
    };
    let rows = list.entries.len() + list.errors.len();
    assert!(rows <= ROWS_MAX);
    let mut lines: Vec<u64> = list.entries.iter().map(|(line, _)| *line).collect();
    lines.extend(list.errors.iter().map(|error| error.line));
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(lines.len(), rows, "two results for one line");
    assert!(lines.iter().all(|line| *line >= first_line));
    let mut ids = HashSet::new();
    for (_, entry) in &list.entries {
        assert!(line_list::is_id(&entry.id), "{:?}", entry.id);
        assert!(ids.insert(entry.id.as_str()), "{} twice", entry.id);
        assert_eq!(
            province_of(&entry.municipality_code).as_deref(),
            Some(entry.province_code.as_str())
        );
        assert!(entry.age.is_none_or(|age| age <= 120));
        assert!(entry.comorbidities.len() <= 10);
        let days = [
            entry.confirmed_on,
            entry.onset_on,
            entry.sampled_on,
            entry.admitted_on,
            entry.outcome_on,
        ];
        assert!(days.iter().flatten().all(|day| *day <= TODAY), "{entry:?}");
        if let (Some(confirmed), Some(onset)) = (entry.confirmed_on, entry.onset_on) {
            assert!(onset <= confirmed, "{entry:?}");
        }
        if let (Some(confirmed), Some(sampled)) = (entry.confirmed_on, entry.sampled_on) {
            assert!(sampled <= confirmed, "{entry:?}");
        }
        if let (Some(onset), Some(admitted)) = (entry.onset_on, entry.admitted_on) {
            assert!(onset <= admitted, "{entry:?}");
        }
        if let (Some(confirmed), Some(outcome)) = (entry.confirmed_on, entry.outcome_on) {
            assert!(confirmed <= outcome, "{entry:?}");
        }
        if entry.status == "confirmed" {
            assert!(entry.confirmed_on.is_some(), "{entry:?}");
        }
    }
    for error in &list.errors {
        assert!(!error.reason.is_empty());
    }
    Ok(list)
}

/// The open COVID-19 archive's three JSON files (`ceiba_surveillance::covid19cubadata::
/// Archive::read`), separated by NUL bytes in the input. Checked: never a panic; each case id
/// once; no more cases or days than the input has bytes for.
pub fn cases_archive(data: &[u8]) {
    let mut files = data.splitn(3, |byte| *byte == 0);
    let cuba = files.next().unwrap_or_default();
    let cuba_1 = files.next().unwrap_or_default();
    let deaths = files.next().unwrap_or_default();
    match covid19cubadata::Archive::read(cuba, cuba_1, deaths, None) {
        Ok(archive) => {
            let mut ids = HashSet::new();
            for case in &archive.cases {
                assert!(ids.insert(&case.id), "case {} twice", case.id);
            }
            // `{"id":"x"}` is the least a case can be.
            assert!(archive.cases.len() <= data.len() / 10);
            assert!(archive.days.len() <= data.len());
            let _ = archive.report.text();
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}
