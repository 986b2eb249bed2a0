//! Customers and addresses as CCV's "Personalinfo" holds them (a user's `userinfo`, an order's
//! `customer`).
//!
//! CCV has no separate company and contact objects: a business customer is `customertype` `b2b`
//! with the company name in the billing address, the chamber of commerce number in `kvk`, the VAT
//! number in `btw`, and the contact person's name as the billing address's name. A private customer
//! is `b2c`, and the company fields are cleared (null), so that a customer who stops being a
//! business is not left with a stale company. House numbers are integers in CCV, so "12a" is split
//! into 12 and "a"; a street that still holds its number ("Dorpsstraat 12a") is split too.
//!
//! An address is sent in one form: street, house number and suffix. CCV takes "either
//! address_line_1 and address_line_2 or street and housenumber" (JDK `Personalinfo` address
//! schema), not both; the street form is what Dutch and Belgian addresses are, what the canonical
//! address keeps apart, and the form whose house number CCV holds as a number. The address lines
//! are sent as null, so an address staff entered in lines is switched, not left in both forms.
//! A further address line (c/o, department), which the street form has no field for, goes into
//! the address's `comment` ("Comment left for the merchant"), so that nothing is lost.

use serde_json::{Value, json};
use tillbridge_sdk::types::{Address, Customer};

/// "12a" → (12, "a"); "12-14" → (12, "-14"); "12 bis" → (12, "bis"); "a" → (none, "a").
pub fn split_house_number(text: &str) -> (Option<i64>, Option<String>) {
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let number = text[..digits].parse().ok();
    let rest = text[digits..].trim();
    (number, (!rest.is_empty()).then(|| rest.to_string()))
}

/// "Dorpsstraat 12a" → ("Dorpsstraat", "12a"); "Plein 1944 3" → ("Plein 1944", "3"); a street
/// without a number stays whole.
pub fn split_street(street: &str) -> (String, Option<String>) {
    let words: Vec<&str> = street.split_whitespace().collect();
    let at = (1..words.len())
        .rev()
        .find(|&i| words[i].starts_with(|c: char| c.is_ascii_digit()));
    match at {
        Some(i) => (words[..i].join(" "), Some(words[i..].join(" "))),
        None => (words.join(" "), None),
    }
}

/// The street, house number and suffix CCV gets for an address.
pub fn street_parts(address: &Address) -> (String, Option<i64>, Option<String>) {
    let (street, number_text) = match address
        .house_number
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        Some(number) => (address.street.trim().to_string(), Some(number.to_string())),
        None => split_street(&address.street),
    };
    let (number, own_suffix) = number_text
        .as_deref()
        .map_or((None, None), split_house_number);
    let extra = address
        .house_number_suffix
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let join = |parts: &[Option<&str>]| {
        let words: Vec<&str> = parts.iter().flatten().copied().collect();
        (!words.is_empty()).then(|| words.join(" "))
    };
    match number {
        Some(number) => (street, Some(number), join(&[own_suffix.as_deref(), extra])),
        // No number to be found: keep what was given in the street, not lose it.
        None => {
            let whole = join(&[Some(street.as_str()), number_text.as_deref(), extra]);
            (whole.unwrap_or_default(), None, None)
        }
    }
}

/// A CCV address. `names` overrides the addressee (a business's contact person), `company` the
/// company (none clears it).
fn address_json(
    address: Option<&Address>,
    names: (&str, &str),
    company: Option<&str>,
    phone: Option<&str>,
) -> Value {
    let mut json = json!({
        "first_name": names.0,
        "last_name": names.1,
        "company": company,
    });
    if let Some(address) = address {
        let (street, number, suffix) = street_parts(address);
        let mut extra = json!({
            "street": street,
            "housenumber": number,
            "housenumber_suffix": suffix,
            "address_line_1": null,
            "address_line_2": null,
            "zipcode": address.postcode,
            "city": address.city,
            "country_code": address.country.to_ascii_uppercase(),
            "telephone": address.phone.as_deref().or(phone),
        });
        if let Some(line) = address
            .additional_line
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            extra["comment"] = json!(line);
        }
        if let (Value::Object(base), Value::Object(extra)) = (&mut json, extra) {
            base.extend(extra);
        }
    }
    json
}

/// The addressee's name on an address, else the person's.
fn names<'a>(address: Option<&'a Address>, customer: &'a Customer) -> (&'a str, &'a str) {
    match address {
        Some(a) if !a.first_name.is_empty() || !a.last_name.is_empty() => {
            (a.first_name.as_str(), a.last_name.as_str())
        }
        _ => (
            customer.person.first_name.as_str(),
            customer.person.last_name.as_str(),
        ),
    }
}

/// Personalinfo for a customer with these addresses (the customer's own, or an order's).
pub fn personalinfo(
    customer: &Customer,
    billing: Option<&Address>,
    shipping: Option<&Address>,
) -> Value {
    let business = customer.company.as_ref();
    let phone = customer.phone.as_deref();
    let billing_names = match business {
        // The contact person is the billing addressee of a business.
        Some(_) => (
            customer.person.first_name.as_str(),
            customer.person.last_name.as_str(),
        ),
        None => names(billing, customer),
    };
    let billing_company = business
        .map(|c| c.name.as_str())
        .or_else(|| billing.and_then(|a| a.company.as_deref()));
    let delivery = shipping.or(billing);
    let delivery_company = delivery
        .and_then(|a| a.company.as_deref())
        .or(business.map(|c| c.name.as_str()));
    json!({
        "email": customer.email.trim(),
        "customertype": if business.is_some() { "b2b" } else { "b2c" },
        "kvk": business.and_then(|c| c.coc_number.as_deref()),
        "btw": business.and_then(|c| c.vat_number.as_deref()),
        "billingaddress": address_json(billing, billing_names, billing_company, phone),
        "deliveryaddress": address_json(delivery, names(delivery, customer), delivery_company, phone),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tillbridge_sdk::types::{Company, Person};

    fn address(street: &str, number: Option<&str>, suffix: Option<&str>) -> Address {
        Address {
            company: None,
            first_name: "Jan".into(),
            last_name: "Jansen".into(),
            street: street.into(),
            house_number: number.map(String::from),
            house_number_suffix: suffix.map(String::from),
            additional_line: None,
            postcode: "1234 AB".into(),
            city: "Utrecht".into(),
            country: "nl".into(),
            phone: None,
        }
    }

    fn customer(company: Option<Company>) -> Customer {
        Customer {
            id: None,
            number: None,
            email: " ada@example.org ".into(),
            person: Person {
                salutation: None,
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
            },
            company,
            phone: Some("+31 30 123".into()),
            billing_address: None,
            shipping_address: None,
            custom_fields: vec![],
        }
    }

    #[test]
    fn house_numbers_split_into_number_and_suffix() {
        assert_eq!(split_house_number("12"), (Some(12), None));
        assert_eq!(split_house_number("12a"), (Some(12), Some("a".into())));
        assert_eq!(
            split_house_number(" 12 bis "),
            (Some(12), Some("bis".into()))
        );
        assert_eq!(split_house_number("12-14"), (Some(12), Some("-14".into())));
        assert_eq!(split_house_number("a"), (None, Some("a".into())));
    }

    #[test]
    fn streets_give_up_their_numbers() {
        assert_eq!(
            split_street("Dorpsstraat 12a"),
            ("Dorpsstraat".into(), Some("12a".into()))
        );
        assert_eq!(
            split_street("Oude Gracht 1 bis"),
            ("Oude Gracht".into(), Some("1 bis".into()))
        );
        assert_eq!(
            split_street("Plein 1944 3"),
            ("Plein 1944".into(), Some("3".into()))
        );
        assert_eq!(split_street("Dorpsstraat"), ("Dorpsstraat".into(), None));
        assert_eq!(
            split_street("12 Dorpsstraat"),
            ("12 Dorpsstraat".into(), None)
        );
    }

    #[test]
    fn addresses_keep_every_part() {
        assert_eq!(
            street_parts(&address("Dorpsstraat", Some("12"), Some("a"))),
            ("Dorpsstraat".into(), Some(12), Some("a".into()))
        );
        assert_eq!(
            street_parts(&address("Dorpsstraat 12a", None, None)),
            ("Dorpsstraat".into(), Some(12), Some("a".into()))
        );
        assert_eq!(
            street_parts(&address("Dorpsstraat", Some("12b"), Some("3 hoog"))),
            ("Dorpsstraat".into(), Some(12), Some("b 3 hoog".into()))
        );
        assert_eq!(
            street_parts(&address("Hoeve De Ruif", Some("zn"), None)),
            ("Hoeve De Ruif zn".into(), None, None)
        );
    }

    #[test]
    fn a_company_makes_a_business_customer_with_its_contact() {
        let business = customer(Some(Company {
            name: "Acme B.V.".into(),
            vat_number: Some("NL001234567B01".into()),
            coc_number: Some("12345678".into()),
        }));
        let billing = address("Dorpsstraat 1", None, None);
        let info = personalinfo(&business, Some(&billing), None);
        assert_eq!(info["customertype"], "b2b");
        assert_eq!(info["email"], "ada@example.org");
        assert_eq!(info["kvk"], "12345678");
        assert_eq!(info["btw"], "NL001234567B01");
        let bill = &info["billingaddress"];
        assert_eq!(bill["company"], "Acme B.V.");
        assert_eq!(
            (bill["first_name"].as_str(), bill["last_name"].as_str()),
            (Some("Ada"), Some("Lovelace"))
        );
        assert_eq!(bill["housenumber"], 1);
        assert_eq!(bill["country_code"], "NL");
        assert!(bill["address_line_1"].is_null() && bill["address_line_2"].is_null());
        assert!(bill.get("comment").is_none(), "no further line, no comment");
        assert_eq!(bill["telephone"], "+31 30 123");
        assert_eq!(
            info["deliveryaddress"]["first_name"], "Jan",
            "delivered to the addressee"
        );
    }

    #[test]
    fn a_further_address_line_goes_into_the_comment_not_a_second_address_form() {
        let mut billing = address("Dorpsstraat", Some("12"), None);
        billing.additional_line = Some(" c/o Bakkerij De Vries ".into());
        let info = personalinfo(&customer(None), Some(&billing), None);
        let bill = &info["billingaddress"];
        assert_eq!(bill["street"], "Dorpsstraat");
        assert_eq!(bill["housenumber"], 12);
        assert!(bill["address_line_2"].is_null(), "one form only");
        assert_eq!(bill["comment"], "c/o Bakkerij De Vries");
    }

    #[test]
    fn without_a_company_a_private_customer_with_company_fields_cleared() {
        let private = customer(None);
        let info = personalinfo(&private, None, None);
        assert_eq!(info["customertype"], "b2c");
        assert!(info["kvk"].is_null() && info["btw"].is_null());
        assert!(info["billingaddress"]["company"].is_null());
        assert_eq!(info["billingaddress"]["first_name"], "Ada");
        assert!(
            info["billingaddress"].get("street").is_none(),
            "no address, no street"
        );
    }
}
