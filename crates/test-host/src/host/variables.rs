//! `fermyon:spin/variables@2.0.0`: the component's variables from `spin.toml`, resolved
//! once when the host is created (providers are static in tests).

use super::bindings::variables::{self, Error};
use super::instance::InstanceState;
use super::manifest::validate_name;

impl variables::Host for InstanceState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        self.spin.stats.variable_gets += 1;
        if let Err(reason) = validate_name(&name) {
            return Ok(Err(Error::InvalidName(reason)));
        }
        let shared = &self.spin.shared;
        Ok(match shared.variables.get(&name) {
            Some(value) => Ok(value.clone()),
            None => Err(Error::Undefined(format!(
                "no variable for {:?}.{name:?}",
                shared.component_id
            ))),
        })
    }
}
