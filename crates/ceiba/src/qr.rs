//! `ceiba qr`: EMVCo merchant-presented QR codes at the terminal. `decode` checks a payload and
//! prints its fields as JSON; `encode` builds a Ceiba merchant's code and, when asked, draws it.
//! The rules are `ceiba-emvqr`'s; this only translates flags and files.

use anyhow::Context;
use ceiba_emvqr::{
    AdditionalDataFields, DataObject, MerchantAccount, MerchantQr, Payload, PointOfInitiation, Tip,
};
use serde_json::{Map, Value, json};

use crate::cli::QrEncodeArgs;
use crate::print_line;

/// `ceiba qr decode CÓDIGO`.
pub fn decode(text: &str) -> anyhow::Result<()> {
    // A payload begins with "00" and ends with hexadecimal digits, so surrounding whitespace
    // (a pasted line's end) is never part of it.
    let payload = ceiba_emvqr::decode(text.trim()).context("el código QR no es válido")?;
    print_line(&serde_json::to_string_pretty(&fields(&payload)).context("JSON")?)
}

/// `ceiba qr encode …`.
pub fn encode(args: &QrEncodeArgs) -> anyhow::Result<()> {
    let amount = args.amount.as_deref().map(decimal_point);
    let merchant = MerchantQr {
        point_of_initiation: if amount.is_some() {
            PointOfInitiation::Dynamic
        } else {
            PointOfInitiation::Static
        },
        accounts: vec![MerchantAccount::ceiba(&args.account_id)],
        category_code: args.mcc.clone(),
        currency: args.currency.clone(),
        amount,
        country: args.country.clone(),
        name: args.name.clone(),
        city: args.city.clone(),
        additional_data: AdditionalDataFields {
            reference_label: args.reference.clone(),
            ..AdditionalDataFields::default()
        },
        ..MerchantQr::default()
    };
    let payload = merchant.build().context("no se puede crear el código QR")?;
    if let Some(path) = &args.svg {
        let svg = payload.svg().context("no se pudo dibujar el código QR")?;
        std::fs::write(path, svg)
            .with_context(|| format!("no se pudo escribir {}", path.display()))?;
    }
    if let Some(path) = &args.png {
        let png = payload.png().context("no se pudo dibujar el código QR")?;
        std::fs::write(path, png)
            .with_context(|| format!("no se pudo escribir {}", path.display()))?;
    }
    print_line(&payload.encode())
}

/// People here write "12,50"; the payload wants "12.50". Anything else is left for the
/// builder to judge.
fn decimal_point(amount: &str) -> String {
    let amount = amount.trim();
    if !amount.contains('.') && amount.matches(',').count() == 1 {
        amount.replace(',', ".")
    } else {
        amount.to_owned()
    }
}

/// Every field of the payload, by name; absent optional ones are `null`, so the shape is the
/// same for every payload.
fn fields(payload: &Payload) -> Value {
    let point_of_initiation = payload.point_of_initiation().map(|point| match point {
        PointOfInitiation::Static => "static",
        PointOfInitiation::Dynamic => "dynamic",
    });
    let tip = payload.tip().map(|tip| match tip {
        Tip::Prompt => json!({ "kind": "prompt" }),
        Tip::Fixed(value) => json!({ "kind": "fixed", "value": value }),
        Tip::Percentage(value) => json!({ "kind": "percentage", "value": value }),
    });
    let additional_data = payload.additional_data().map(|data| {
        let names = [
            (1, "bill_number"),
            (2, "mobile_number"),
            (3, "store_label"),
            (4, "loyalty_number"),
            (5, "reference_label"),
            (6, "customer_label"),
            (7, "terminal_label"),
            (8, "purpose"),
            (9, "consumer_data_request"),
        ];
        let mut map = Map::new();
        for object in data.objects() {
            let number = object.tag().number();
            let key = names
                .iter()
                .find(|(known, _)| *known == number)
                .map_or_else(|| object.tag().to_string(), |(_, name)| (*name).to_owned());
            map.insert(key, json!(object.text()));
        }
        Value::Object(map)
    });
    let alternate_language = payload.alternate_language().map(|language| {
        json!({
            "language": language.language(),
            "merchant_name": language.merchant_name(),
            "merchant_city": language.merchant_city(),
        })
    });
    json!({
        "payload_format_indicator": payload.get(0).and_then(DataObject::text),
        "point_of_initiation": point_of_initiation,
        "merchant_accounts": payload.merchant_accounts().map(object).collect::<Vec<_>>(),
        "merchant_category_code": payload.category_code(),
        "transaction_currency": payload.currency(),
        "transaction_amount": payload.amount(),
        "tip": tip,
        "country_code": payload.country(),
        "merchant_name": payload.merchant_name(),
        "merchant_city": payload.merchant_city(),
        "postal_code": payload.postal_code(),
        "additional_data": additional_data,
        "alternate_language": alternate_language,
        "unreserved_templates": payload.unreserved_templates().map(object).collect::<Vec<_>>(),
        "crc": payload.crc(),
    })
}

/// A merchant account or unreserved template: its ID and its value, or its subfields by ID.
fn object(object: &DataObject) -> Value {
    match object.text() {
        Some(text) => json!({ "id": object.tag().to_string(), "value": text }),
        None => {
            let subfields: Map<String, Value> = object
                .objects()
                .iter()
                .map(|inner| (inner.tag().to_string(), json!(inner.text())))
                .collect();
            json!({ "id": object.tag().to_string(), "fields": subfields })
        }
    }
}
