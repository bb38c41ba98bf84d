//! The files people hand Pagos, read and checked without IO: a biller's bills (CSV or JSON) and
//! a payer's payout rows. The web importers and the fuzz targets run this same code; what needs
//! the database (who a phone number is, whose a bank account is, a reference already stored)
//! stays with the importers.
//!
//! - **Bills** are all or nothing: every line is checked and any error refuses the whole file,
//!   naming the lines («línea 3: …», or «factura 2: …» in JSON).
//! - **Payouts** are kept with their errors: a row that cannot be paid carries its reason, so
//!   the payer sees the whole file judged at once; only a file that cannot be read at all (no
//!   header, no rows, too many) is refused.

use ceiba_identity::PhoneNumber;

use crate::money::{Currency, Money};

/// The header of a bills file, in this order.
pub const BILLS_CSV_HEADER: [&str; 5] =
    ["referencia", "cliente", "importe", "vencimiento", "periodo"];
/// Longest bill reference: what is printed on Cuban bills and tax forms fits easily.
pub const BILL_REFERENCE_CHARS_MAX: usize = 30;
const CUSTOMER_CHARS_MAX: usize = 120;
const PERIOD_CHARS_MAX: usize = 40;

/// The header of a payout file, in this order.
pub const PAYOUT_CSV_HEADER: [&str; 3] = ["destino", "importe", "referencia"];
/// Longest reference a payout row may carry (it reaches the recipient's statement).
pub const PAYOUT_REFERENCE_CHARS_MAX: usize = 60;
/// How much of a payout row's recipient is kept to show it back.
const RECIPIENT_CHARS_SHOWN: usize = 40;
/// Digits of a Cuban bank account number (as printed on the bank's card).
pub const ACCOUNT_NUMBER_DIGITS: usize = 16;

/// A bill as uploaded, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillLine {
    /// Where it came from, for errors: «línea 3» or «factura 2».
    pub place: String,
    /// Upper case, as [`bill_reference`] gives it.
    pub reference: String,
    pub customer_name: String,
    pub amount_minor: u64,
    pub currency: Currency,
    /// AAAA-MM-DD.
    pub due_date: String,
    pub period: String,
}

/// One bill of a JSON upload, its fields as sent.
#[derive(Debug, Clone, Copy)]
pub struct BillFields<'a> {
    pub reference: &'a str,
    pub customer: &'a str,
    pub amount: &'a str,
    pub due_date: &'a str,
    pub period: &'a str,
    /// CUP when absent.
    pub currency: Option<&'a str>,
}

/// A reference as printed on a bill, upper case: letters, digits, `-`, `/` and `.`.
pub fn bill_reference(text: &str) -> Result<String, String> {
    let reference = text.trim().to_ascii_uppercase();
    let valid = !reference.is_empty()
        && reference.chars().count() <= BILL_REFERENCE_CHARS_MAX
        && reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-/.".contains(&b));
    if valid {
        Ok(reference)
    } else {
        Err(format!(
            "la referencia «{}» no es válida: de 1 a {BILL_REFERENCE_CHARS_MAX} letras, cifras, «-», «/» o «.»",
            text.trim()
                .chars()
                .take(BILL_REFERENCE_CHARS_MAX + 5)
                .collect::<String>()
        ))
    }
}

fn text_field(value: &str, what: &str, chars_max: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("falta {what}"));
    }
    if value.chars().count() > chars_max || value.chars().any(char::is_control) {
        return Err(format!(
            "{what} admite hasta {chars_max} caracteres, sin saltos de línea"
        ));
    }
    Ok(value.to_owned())
}

/// Checks one bill's fields as typed.
fn bill_line(
    place: String,
    [reference, customer, amount, due, period]: [&str; 5],
    currency: Currency,
) -> Result<BillLine, String> {
    let fail = |detail: String| format!("{place}: {detail}");
    let reference = bill_reference(reference).map_err(fail)?;
    let customer_name = text_field(customer, "el cliente", CUSTOMER_CHARS_MAX).map_err(fail)?;
    let amount = Money::parse(amount, currency)
        .map_err(|error| fail(format!("el importe «{}»: {error}", amount.trim())))?;
    let due_date = due
        .trim()
        .parse::<jiff::civil::Date>()
        .map_err(|_| {
            fail(format!(
                "el vencimiento «{}» no es una fecha AAAA-MM-DD",
                due.trim()
            ))
        })?
        .to_string();
    let period = text_field(period, "el periodo", PERIOD_CHARS_MAX).map_err(fail)?;
    Ok(BillLine {
        place,
        reference,
        customer_name,
        amount_minor: amount.minor,
        currency,
        due_date,
        period,
    })
}

/// Line numbers of byte offsets met in increasing order, for files whose reader skips blank
/// lines and counts lines its own way.
struct LineCounter<'a> {
    body: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(body: &'a [u8]) -> LineCounter<'a> {
        LineCounter {
            body,
            offset: 0,
            line: 1,
        }
    }

    /// The line (from 1) of a record that the reader says starts at byte `at`. After a CRLF
    /// the reader's offset is that of the `\n`, which belongs to the line before, so the byte at
    /// `at` itself is counted too (a record cannot start with a `\n` of its own: the reader
    /// skips empty lines).
    fn line_at(&mut self, at: u64) -> usize {
        let at = usize::try_from(at)
            .unwrap_or(usize::MAX)
            .saturating_add(1)
            .min(self.body.len());
        if at > self.offset {
            // A line ends with `\n`, `\r\n` or a lone `\r` (as the reader takes them).
            self.line += (self.offset..at)
                .filter(|&index| match self.body[index] {
                    b'\n' => true,
                    b'\r' => self.body.get(index + 1) != Some(&b'\n'),
                    _ => false,
                })
                .count();
            self.offset = at;
        }
        self.line
    }
}

/// Reads a bills file: UTF-8 CSV, comma-separated, the header [`BILLS_CSV_HEADER`], one bill a
/// line, amounts in CUP, at most `bills_max` bills. Every line is checked; any error refuses
/// the whole file, naming the lines.
pub fn read_bills_csv(body: &[u8], bills_max: usize) -> Result<Vec<BillLine>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(body);
    let header_ok = reader.headers().is_ok_and(|header| {
        header.len() == BILLS_CSV_HEADER.len()
            && header.iter().zip(BILLS_CSV_HEADER).all(|(given, wanted)| {
                given
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(wanted)
            })
    });
    if !header_ok {
        return Err(vec![format!(
            "línea 1: la cabecera debe ser «{}»",
            BILLS_CSV_HEADER.join(",")
        )]);
    }
    let mut bills = Vec::new();
    let mut errors = Vec::new();
    // Lines are counted here from byte offsets: the reader's own count is off by one after a
    // CRLF header, and spreadsheets write CRLF.
    let mut lines = LineCounter::new(body);
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error
                    .position()
                    .map_or(lines.line, |position| lines.line_at(position.byte()));
                errors.push(format!("línea {line}: no se puede leer ({error})"));
                // A broken quote or bad UTF-8 throws the reader off: stop here.
                break;
            }
        };
        let line = record
            .position()
            .map_or(lines.line, |position| lines.line_at(position.byte()));
        if bills.len() + errors.len() >= bills_max {
            errors.push(format!(
                "línea {line}: un archivo admite hasta {bills_max} facturas"
            ));
            break;
        }
        if record.len() != BILLS_CSV_HEADER.len() {
            errors.push(format!(
                "línea {line}: tiene {} campos y deben ser {}",
                record.len(),
                BILLS_CSV_HEADER.len()
            ));
            continue;
        }
        let fields = [&record[0], &record[1], &record[2], &record[3], &record[4]];
        match bill_line(format!("línea {line}"), fields, Currency::Cup) {
            Ok(bill) => bills.push(bill),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(bills)
    } else {
        Err(errors)
    }
}

/// Checks the bills of a JSON upload, at most `bills_max`; any error refuses them all, naming
/// each bill by its place («factura 2»).
pub fn read_bills(
    bills: &[BillFields<'_>],
    bills_max: usize,
) -> Result<Vec<BillLine>, Vec<String>> {
    if bills.len() > bills_max {
        return Err(vec![format!("una carga admite hasta {bills_max} facturas")]);
    }
    let mut read = Vec::new();
    let mut errors = Vec::new();
    for (index, bill) in bills.iter().enumerate() {
        let place = format!("factura {}", index + 1);
        let currency = match Currency::parse(bill.currency.unwrap_or("CUP")) {
            Ok(currency) => currency,
            Err(error) => {
                errors.push(format!("{place}: {error}"));
                continue;
            }
        };
        let fields = [
            bill.reference,
            bill.customer,
            bill.amount,
            bill.due_date,
            bill.period,
        ];
        match bill_line(place, fields, currency) {
            Ok(line) => read.push(line),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(read)
    } else {
        Err(errors)
    }
}

/// Where a payout row sends money.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PayoutDestination {
    /// E.164.
    Phone(String),
    /// A bank account's [`ACCOUNT_NUMBER_DIGITS`] digits, spaces and dashes taken out.
    Account(String),
}

/// A payout row as read, before its recipient is looked up: `error` says why it cannot be paid,
/// and then `destination` or `amount` may be missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutLine {
    /// The file's line (the header is line 1).
    pub line: u64,
    /// The destination as written (its first characters), to show back.
    pub recipient: String,
    pub destination: Option<PayoutDestination>,
    pub amount: Option<Money>,
    pub reference: String,
    pub error: Option<String>,
}

/// Reads a payout file: UTF-8 CSV, cells trimmed, the header [`PAYOUT_CSV_HEADER`], then one
/// row a line (blank lines skipped), each checked as far as it can be without the database.
/// Refused whole, with the reason, when it has no header, no rows or more than `rows_max`.
pub fn read_payout_csv(
    body: &[u8],
    currency: Currency,
    rows_max: usize,
) -> Result<Vec<PayoutLine>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let mut records = reader.records();
    let header = records
        .next()
        .ok_or("el archivo está vacío")?
        .map_err(|error| format!("la cabecera no se puede leer: {error}"))?;
    let names: Vec<String> = header
        .iter()
        .map(|name| name.trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    if names != PAYOUT_CSV_HEADER {
        return Err(format!(
            "la primera línea debe ser la cabecera «{}»",
            PAYOUT_CSV_HEADER.join(",")
        ));
    }
    let mut rows = Vec::new();
    // Lines from byte offsets, as in bills files: the reader skips blank lines, so counting
    // records would name the wrong line after one.
    let mut lines = LineCounter::new(body);
    for record in records {
        let position = match &record {
            Ok(record) => record.position(),
            Err(error) => error.position(),
        };
        let line = position.map_or(lines.line, |position| lines.line_at(position.byte()));
        let line = u64::try_from(line).unwrap_or(u64::MAX);
        if rows.len() >= rows_max {
            return Err(format!("el archivo pasa de {rows_max} filas; divídalo"));
        }
        let mut row = PayoutLine {
            line,
            recipient: String::new(),
            destination: None,
            amount: None,
            reference: String::new(),
            error: None,
        };
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                row.error = Some(format!("no se puede leer: {error}"));
                rows.push(row);
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        row.recipient = record
            .get(0)
            .unwrap_or_default()
            .chars()
            .take(RECIPIENT_CHARS_SHOWN)
            .collect();
        row.reference = record.get(2).unwrap_or_default().to_owned();
        row.error = check_payout_row(&record, currency, &mut row).err();
        rows.push(row);
    }
    if rows.is_empty() {
        return Err("el archivo no trae ninguna fila".to_owned());
    }
    Ok(rows)
}

fn check_payout_row(
    record: &csv::StringRecord,
    currency: Currency,
    row: &mut PayoutLine,
) -> Result<(), String> {
    if record.len() != PAYOUT_CSV_HEADER.len() {
        return Err(format!(
            "tiene {} columnas; se esperan 3 (destino, importe, referencia)",
            record.len()
        ));
    }
    let destination = record.get(0).unwrap_or_default();
    let digits: String = destination
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    row.destination = Some(
        if digits.len() == ACCOUNT_NUMBER_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            PayoutDestination::Account(digits)
        } else {
            let phone = PhoneNumber::parse(destination)
                .map_err(|error| format!("el destino no es un teléfono ni una cuenta: {error}"))?;
            PayoutDestination::Phone(phone.as_e164().to_owned())
        },
    );
    row.amount = Some(
        Money::parse(record.get(1).unwrap_or_default(), currency)
            .map_err(|error| error.to_string())?,
    );
    let reference = record.get(2).unwrap_or_default();
    if reference.chars().count() > PAYOUT_REFERENCE_CHARS_MAX
        || reference.chars().any(char::is_control)
    {
        return Err(format!(
            "la referencia tiene más de {PAYOUT_REFERENCE_CHARS_MAX} caracteres"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_upper_case_letters_digits_and_three_signs() {
        assert_eq!(bill_reference(" ab-12/3.x "), Ok("AB-12/3.X".to_owned()));
        assert!(bill_reference("").is_err());
        assert!(bill_reference("a b").is_err());
        assert!(bill_reference("ñ1").is_err());
        assert!(bill_reference(&"1".repeat(31)).is_err());
    }

    #[test]
    fn a_bills_file_is_read_whole_or_refused_naming_lines() {
        let good = "\u{feff}referencia,cliente,importe,vencimiento,periodo\r\n\
                    100,\"Pérez, Ana\",125.50,2026-12-15,2026-11\r\n\
                    101,Luis Gómez,\"30,00\",2026-12-15,2026-11\r\n";
        let bills = read_bills_csv(good.as_bytes(), 10).expect("a good file");
        assert_eq!(bills.len(), 2);
        assert_eq!(bills[0].customer_name, "Pérez, Ana");
        assert_eq!(bills[0].amount_minor, 12_550);
        assert_eq!(bills[1].amount_minor, 3_000);
        assert_eq!(bills[1].place, "línea 3");

        let bad = "referencia,cliente,importe,vencimiento,periodo\n\
                   100,Ana,125.50,2026-12-15,2026-11\n\
                   101,Luis,abc,2026-12-15,2026-11\n\
                   102,Rosa,10,2026-13-01,2026-11\n\
                   103,Rosa,10\n";
        let errors = read_bills_csv(bad.as_bytes(), 10).expect_err("a bad file");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].starts_with("línea 3: el importe «abc»"),
            "{errors:?}"
        );
        assert!(
            errors[1].starts_with("línea 4: el vencimiento"),
            "{errors:?}"
        );
        assert_eq!(errors[2], "línea 5: tiene 3 campos y deben ser 5");

        let wrong_header = "ref,cliente,importe,vencimiento,periodo\n100,Ana,1,2026-12-15,x\n";
        assert_eq!(
            read_bills_csv(wrong_header.as_bytes(), 10).expect_err("wrong header"),
            ["línea 1: la cabecera debe ser «referencia,cliente,importe,vencimiento,periodo»"]
        );
        let three = "referencia,cliente,importe,vencimiento,periodo\n\
                     1,A,1,2026-12-15,x\n2,B,1,2026-12-15,x\n3,C,1,2026-12-15,x\n";
        assert_eq!(
            read_bills_csv(three.as_bytes(), 2).expect_err("too many"),
            ["línea 4: un archivo admite hasta 2 facturas"]
        );
    }

    #[test]
    fn json_bills_are_named_by_their_place_and_may_be_in_dollars() {
        let bill = |amount, currency| BillFields {
            reference: "r-1",
            customer: "Ana",
            amount,
            due_date: "2026-12-15",
            period: "2026-11",
            currency,
        };
        let read = read_bills(&[bill("10", Some("USD"))], 5).expect("good");
        assert_eq!(read[0].currency, Currency::Usd);
        assert_eq!(read[0].reference, "R-1");
        let errors = read_bills(
            &[bill("10", None), bill("-1", None), bill("1", Some("EUR"))],
            5,
        )
        .expect_err("bad");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("factura 2: el importe"), "{errors:?}");
        assert!(errors[1].starts_with("factura 3: "), "{errors:?}");
        assert_eq!(
            read_bills(&[bill("1", None); 3], 2).expect_err("too many"),
            ["una carga admite hasta 2 facturas"]
        );
    }

    #[test]
    fn payout_rows_carry_their_own_errors_and_the_file_its_refusal() {
        let file = "\u{feff}Destino,Importe,Referencia\n\
                    +53 5212 3456, 10.50 ,nómina\n\
                    \n\
                    9205-1299-0001-2345,3,x\n\
                    12,1,x\n\
                    +5352123456,cero,x\n\
                    +5352123456,1\n";
        let rows = read_payout_csv(file.as_bytes(), Currency::Cup, 10).expect("readable");
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].line, 2);
        assert_eq!(
            rows[0].destination,
            Some(PayoutDestination::Phone("+5352123456".to_owned()))
        );
        assert_eq!(rows[0].amount.map(|money| money.minor), Some(1_050));
        assert_eq!(rows[0].reference, "nómina");
        assert_eq!(rows[0].error, None);
        assert_eq!(rows[1].line, 4, "the blank line is counted, not kept");
        assert_eq!(
            rows[1].destination,
            Some(PayoutDestination::Account("9205129900012345".to_owned()))
        );
        assert!(
            rows[2]
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("el destino no es un teléfono")),
            "{rows:?}"
        );
        assert!(
            rows[3].error.is_some() && rows[3].amount.is_none(),
            "{rows:?}"
        );
        assert_eq!(
            rows[4].error.as_deref(),
            Some("tiene 2 columnas; se esperan 3 (destino, importe, referencia)")
        );

        assert_eq!(
            read_payout_csv(b"", Currency::Cup, 10),
            Err("el archivo está vacío".to_owned())
        );
        assert!(read_payout_csv(b"telefono,importe\n", Currency::Cup, 10).is_err());
        assert_eq!(
            read_payout_csv(b"destino,importe,referencia\n", Currency::Cup, 10),
            Err("el archivo no trae ninguna fila".to_owned())
        );
        // Old Mac line ends, and a quoted reference over two lines: lines still named right.
        let lone_cr = "destino,importe,referencia\r+5352123456,1,\"a\nb\"\r+5352123456,2,c\r";
        let rows = read_payout_csv(lone_cr.as_bytes(), Currency::Cup, 10).expect("readable");
        assert_eq!(
            rows.iter().map(|row| row.line).collect::<Vec<_>>(),
            [2, 4],
            "{rows:?}"
        );
        let two = "destino,importe,referencia\n+5352123456,1,a\n+5352123456,1,b\n";
        assert_eq!(
            read_payout_csv(two.as_bytes(), Currency::Cup, 1),
            Err("el archivo pasa de 1 filas; divídalo".to_owned())
        );
    }
}
