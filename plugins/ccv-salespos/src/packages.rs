//! The package new products and free order rows get. CCV requires one on both
//! (`package_id`), and package ids are the shop's own numbers, listed by `GET /packages`: there is
//! no default to count on. So the setting `package_id` names one of them; without it the shop's
//! only package is taken, and a shop with several needs the setting.
//!
//! The shop's packages are remembered (one `GET /packages` the first time); a setting that names
//! none of them is checked against a fresh list once before it is refused. The connection check
//! always reads the list afresh and says which packages there are.

use serde::{Deserialize, Serialize};
use tillbridge_sdk::types::PluginError;

use crate::memory;
use crate::settings::Ccv;

const KEY: &str = "packages";

/// A package of the shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    pub id: u64,
    #[serde(default)]
    pub name: String,
}

/// The package id products and free rows get, or why there is none.
pub fn package_id(ccv: &Ccv) -> Result<u64, PluginError> {
    let setting = ccv.settings.package_id;
    if let Some(known) = memory::get_json::<Vec<Package>>(KEY)
        && let Ok(package) = choose(setting, &known)
    {
        return Ok(package.id);
    }
    Ok(choose(setting, &fetch(ccv)?)?.id)
}

/// The package id, asked of CCV when first needed in a call (a batch with no create or free
/// row asks nothing).
pub struct Lazy<'a> {
    ccv: &'a Ccv,
    id: Option<Result<u64, PluginError>>,
}

impl<'a> Lazy<'a> {
    pub fn new(ccv: &'a Ccv) -> Self {
        Lazy { ccv, id: None }
    }

    /// The package id, or why there is none.
    pub fn id(&mut self) -> Result<u64, PluginError> {
        let ccv = self.ccv;
        self.id.get_or_insert_with(|| package_id(ccv)).clone()
    }
}

/// For the connection check: which package new products get, read afresh.
pub fn check(ccv: &Ccv) -> Result<String, PluginError> {
    let packages = fetch(ccv)?;
    let package = choose(ccv.settings.package_id, &packages)?;
    let how = if ccv.settings.package_id.is_some() {
        "the `package_id` setting"
    } else {
        "the shop's only package"
    };
    Ok(format!(
        "new products get package {} {:?} ({how})",
        package.id, package.name
    ))
}

/// Every package of the shop, remembered for the next calls.
fn fetch(ccv: &Ccv) -> Result<Vec<Package>, PluginError> {
    let packages: Vec<Package> = ccv.api.all("packages", &[])?;
    memory::set_json(KEY, &packages);
    Ok(packages)
}

/// The package `setting` names, or the only one when it names none.
fn choose(setting: Option<u64>, packages: &[Package]) -> Result<&Package, PluginError> {
    let listed = || {
        packages
            .iter()
            .map(|p| format!("{} {:?}", p.id, p.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let problem = match (setting, packages) {
        (Some(id), _) => match packages.iter().find(|p| p.id == id) {
            Some(package) => return Ok(package),
            None if packages.is_empty() => format!(
                "package_id {id} is not a package of this CCV webshop, which has none: create one \
                 in the CCV back office"
            ),
            None => format!(
                "package_id {id} is not a package of this CCV webshop (CCV's package ids are the \
                 shop's own); its packages are {}: set the connection's `package_id` to one of them",
                listed()
            ),
        },
        (None, [only]) => return Ok(only),
        (None, []) => "this CCV webshop has no package, and CCV requires one on every product: \
                       create one in the CCV back office"
            .to_string(),
        (None, several) => format!(
            "this CCV webshop has {} packages ({}): set the connection's `package_id` to the one \
             new products and free order rows get",
            several.len(),
            listed()
        ),
    };
    Err(PluginError::invalid_field(problem, "package_id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packages(ids: &[u64]) -> Vec<Package> {
        ids.iter()
            .map(|id| Package {
                id: *id,
                name: format!("P{id}"),
            })
            .collect()
    }

    fn message(result: Result<&Package, PluginError>) -> String {
        match result {
            Err(PluginError::Invalid(problem)) => problem.message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_setting_names_one_of_the_shops_packages_or_the_only_one_is_taken() {
        let one = packages(&[10002]);
        assert_eq!(choose(None, &one).unwrap().id, 10002);
        assert_eq!(choose(Some(10002), &one).unwrap().id, 10002);
        let wrong = message(choose(Some(1), &one));
        assert!(
            wrong.contains("package_id 1") && wrong.contains("10002 \"P10002\""),
            "{wrong}"
        );
        let two = packages(&[10002, 10003]);
        assert_eq!(choose(Some(10003), &two).unwrap().id, 10003);
        let several = message(choose(None, &two));
        assert!(
            several.contains("2 packages") && several.contains("`package_id`"),
            "{several}"
        );
        assert!(message(choose(None, &[])).contains("no package"));
    }
}
