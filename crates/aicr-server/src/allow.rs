//! Allowlists (`AICR_ALLOWED_SERVICES`, `AICR_ALLOWED_ACCELERATORS`,
//! `AICR_ALLOWED_INTENTS`, `AICR_ALLOWED_OS`): an operator can restrict
//! what a deployment of `aicrd` resolves. `any` is always allowed; a
//! specific value outside a list is 400 with the list.

use aicr::{Accelerator, Code, Criteria, Intent, Os, Service};

use crate::error::ApiError;

/// Unset lists allow everything.
#[derive(Debug, Clone, Default)]
pub struct Allowlists {
    /// Services a request may name.
    pub services: Option<Vec<Service>>,
    /// Accelerators a request may name.
    pub accelerators: Option<Vec<Accelerator>>,
    /// Intents a request may name.
    pub intents: Option<Vec<Intent>>,
    /// Operating systems a request may name.
    pub os: Option<Vec<Os>>,
}

impl Allowlists {
    /// Parses the comma lists of the four settings (`None` = unset). Empty
    /// items are skipped and `any` is dropped; an unknown value is an error.
    pub fn parse(
        services: Option<&str>,
        accelerators: Option<&str>,
        intents: Option<&str>,
        os: Option<&str>,
    ) -> aicr::Result<Self> {
        fn list<T: PartialEq>(
            text: Option<&str>,
            parse: fn(&str) -> aicr::Result<T>,
            any: T,
        ) -> aicr::Result<Option<Vec<T>>> {
            let Some(text) = text else { return Ok(None) };
            let mut out = Vec::new();
            for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                let value = parse(item)?;
                if value != any && !out.contains(&value) {
                    out.push(value);
                }
            }
            Ok(Some(out))
        }
        Ok(Allowlists {
            services: list(services, Service::parse_flag, Service::Any)?,
            accelerators: list(accelerators, Accelerator::parse, Accelerator::Any)?,
            intents: list(intents, Intent::parse, Intent::Any)?,
            os: list(os, Os::parse, Os::Any)?,
        })
    }

    /// [`Allowlists::check`] as a library error, for the MCP tools:
    /// INVALID_REQUEST naming the value and the list.
    pub fn check_criteria(&self, criteria: &Criteria) -> aicr::Result<()> {
        self.check(criteria).map_err(|e| {
            aicr::Error::invalid(format!(
                "{}: {} (allowed: {})",
                e.message, e.details["requested"], e.details["allowed"]
            ))
        })
    }

    /// Refuses criteria that name a value outside a list.
    pub fn check(&self, criteria: &Criteria) -> Result<(), ApiError> {
        fn one<T: PartialEq + Copy>(
            list: &Option<Vec<T>>,
            value: T,
            any: T,
            name: fn(T) -> &'static str,
            what: &str,
        ) -> Result<(), ApiError> {
            match list {
                Some(allowed) if value != any && !allowed.contains(&value) => Err(ApiError::new(
                    Code::InvalidRequest,
                    format!("{what} type not allowed"),
                )
                .detail("requested", name(value))
                .detail(
                    "allowed",
                    allowed.iter().map(|v| name(*v)).collect::<Vec<_>>(),
                )),
                _ => Ok(()),
            }
        }
        one(
            &self.services,
            criteria.service,
            Service::Any,
            Service::as_str,
            "service",
        )?;
        one(
            &self.accelerators,
            criteria.accelerator,
            Accelerator::Any,
            Accelerator::as_str,
            "accelerator",
        )?;
        one(
            &self.intents,
            criteria.intent,
            Intent::Any,
            Intent::as_str,
            "intent",
        )?;
        one(&self.os, criteria.os, Os::Any, Os::as_str, "OS")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_skip_empty_items_drop_any_and_refuse_unknown_values() {
        let a = Allowlists::parse(None, Some("h100, ,any,l40"), None, None).unwrap();
        assert_eq!(
            a.accelerators,
            Some(vec![Accelerator::H100, Accelerator::L40])
        );
        assert!(a.services.is_none());
        assert!(Allowlists::parse(None, Some("h800"), None, None).is_err());
    }

    #[test]
    fn any_is_always_allowed_and_other_values_only_when_listed() {
        let a = Allowlists::parse(None, Some("h100"), None, None).unwrap();
        let mut c = Criteria::default();
        assert!(a.check(&c).is_ok());
        c.accelerator = Accelerator::H100;
        assert!(a.check(&c).is_ok());
        c.accelerator = Accelerator::Gb200;
        let e = a.check(&c).unwrap_err();
        assert_eq!(e.message, "accelerator type not allowed");
        assert_eq!(e.details["requested"], "gb200");
        assert_eq!(e.details["allowed"], serde_json::json!(["h100"]));
    }
}
