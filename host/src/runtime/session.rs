//! A session: one instance of a plugin in a store of its own, for one run. Every call into it is
//! bounded (computation, wall time, memory); a plugin that breaks a bound or crashes is stopped
//! with an error that says what happened, and the session is closed while the host goes on.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Store, UpdateDeadline};

use super::bindings::exports::tillbridge::plugin as guest;
use super::bindings::tillbridge::plugin::types;
use super::epoch::EpochTicker;
use super::host::PluginState;
use super::output::panic_message;
use super::{Grants, PluginInner};

/// Why a call into a plugin did not give an answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The plugin answered with an error of its own.
    #[error("{}", describe_plugin_error(.0))]
    Plugin(types::PluginError),
    /// It computed longer than its budget allows, without returning.
    #[error(
        "plugin {plugin} computed for more than {budget_ms} ms in one call and was stopped (a loop that never ends, or more work per call than `cpu_budget_ms` allows)"
    )]
    CpuBudget {
        /// Who.
        plugin: String,
        /// The budget.
        budget_ms: u128,
    },
    /// It did not finish in time (waiting included).
    #[error("plugin {plugin} did not finish a call within {} s and was stopped (raise `call_timeout_secs` if the work is real)", .after.as_secs())]
    Timeout {
        /// Who.
        plugin: String,
        /// The limit.
        after: Duration,
    },
    /// It wanted more memory than allowed.
    #[error(
        "plugin {plugin} reached its memory limit of {limit_mb} MiB (it asked for {wanted_mb} MiB) and was stopped"
    )]
    Memory {
        /// Who.
        plugin: String,
        /// The limit.
        limit_mb: usize,
        /// What it asked for.
        wanted_mb: usize,
    },
    /// It crashed: a panic or a trap.
    #[error("plugin {plugin} crashed: {message}")]
    Crashed {
        /// Who.
        plugin: String,
        /// The panic message or the trap.
        message: String,
    },
    /// It lacks the capability asked for.
    #[error("plugin {plugin} does not export tillbridge:plugin/{interface}")]
    Missing {
        /// Who.
        plugin: String,
        /// The interface, as WIT names it ("orders-sink").
        interface: String,
    },
    /// An earlier failure closed the session.
    #[error("plugin {plugin} was stopped earlier in this run ({reason}); start a new session")]
    Closed {
        /// Who.
        plugin: String,
        /// The earlier failure.
        reason: String,
    },
}

fn describe_plugin_error(e: &types::PluginError) -> String {
    use types::PluginError as E;
    match e {
        E::NotFound(m) => format!("not found: {m}"),
        E::Invalid(p) => match &p.field {
            Some(field) => format!("invalid: {} (at {field})", p.message),
            None => format!("invalid: {}", p.message),
        },
        E::RateLimited(ms) => format!("rate limited: retry after {ms} ms"),
        E::Transient(m) => format!("transient: {m}"),
        E::Auth(m) => format!("authentication: {m}"),
        E::Fatal(m) => format!("fatal: {m}"),
    }
}

/// The exported interfaces of one instance.
#[derive(Default)]
struct Guests {
    connector: Option<guest::connector::Guest>,
    transformer: Option<super::transformer::Transformer>,
    orders_source: Option<guest::orders_source::Guest>,
    orders_sink: Option<guest::orders_sink::Guest>,
    customers: Option<guest::customers::Guest>,
    products_source: Option<guest::products_source::Guest>,
    products_sink: Option<guest::products_sink::Guest>,
    product_properties: Option<guest::product_properties::Guest>,
    stock_source: Option<guest::stock_source::Guest>,
    stock_sink: Option<guest::stock_sink::Guest>,
    categories_source: Option<guest::categories_source::Guest>,
    categories_sink: Option<guest::categories_sink::Guest>,
}

/// One instance of a plugin, for one run.
pub struct Session {
    plugin: Arc<PluginInner>,
    store: Store<PluginState>,
    guests: Guests,
    closed: Option<String>,
}

/// Binds the exported interfaces the component has.
macro_rules! load_guests {
    ($exports:expr, $store:expr, $instance:expr, [$($field:ident),*]) => {{
        let mut guests = Guests::default();
        $(
            if let Some(indices) = &$exports.$field {
                guests.$field = Some(indices.load(&mut *$store, $instance)?);
            }
        )*
        guests
    }};
}

impl Session {
    pub(super) async fn start(
        plugin: Arc<PluginInner>,
        grants: Grants,
    ) -> Result<Session, CallError> {
        let call_timeout = grants.limits.call_timeout;
        let mut store = Store::new(
            &plugin.engine,
            PluginState::new(grants, plugin.egress.clone()),
        );
        store.limiter(|state| &mut state.memory);
        store.epoch_deadline_callback(|mut context| {
            let state = context.data_mut();
            if state.cpu.spent() > state.grants.limits.cpu_budget {
                state.cpu_exceeded = true;
                return Err(wasmtime::format_err!("computation budget exceeded"));
            }
            // Give the executor back every tick, so that timeouts and other tasks keep running.
            Ok(UpdateDeadline::Yield(1))
        });
        store.set_epoch_deadline(1);
        store.data_mut().cpu.start_call();
        let outcome = bounded(
            &plugin.ticker,
            call_timeout,
            plugin.pre.instantiate_async(&mut store),
        )
        .await;
        let mut session = Session {
            plugin,
            store,
            guests: Guests::default(),
            closed: None,
        };
        let instance = session.finish(outcome)?;
        let exports = &session.plugin.exports;
        let store = &mut session.store;
        let loaded: wasmtime::Result<Guests> = (|| {
            let mut guests = load_guests!(
                exports,
                store,
                &instance,
                [
                    connector,
                    orders_source,
                    orders_sink,
                    customers,
                    products_source,
                    products_sink,
                    product_properties,
                    stock_source,
                    stock_sink,
                    categories_source,
                    categories_sink
                ]
            );
            if let Some(transformer) = &exports.transformer {
                guests.transformer = Some(transformer.bind(&mut *store, &instance)?);
            }
            Ok(guests)
        })();
        session.guests = loaded.map_err(|e| session.crash(e))?;
        session.learn_rate_limits().await?;
        Ok(session)
    }

    /// Gives the connection's pacer the rate limits the connector declares, the first time one
    /// of its sessions starts.
    async fn learn_rate_limits(&mut self) -> Result<(), CallError> {
        let Some(pacer) = self.store.data().grants.pacer.clone() else {
            return Ok(());
        };
        if pacer.is_declared() || self.guests.connector.is_none() {
            return Ok(());
        }
        let info = self.connector_info().await?;
        let declared: Vec<crate::egress::Declared> = info
            .rate_limits
            .into_iter()
            .map(|l| (l.operation, l.requests, l.per_seconds))
            .collect();
        pacer.declare(self.plugin(), &declared);
        Ok(())
    }

    /// The plugin's name.
    pub fn plugin(&self) -> &str {
        &self.store.data().grants.caller
    }

    /// Whether an earlier failure closed the session.
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Prepares the store for a call.
    fn begin(&mut self) -> Result<(), CallError> {
        if let Some(reason) = &self.closed {
            return Err(CallError::Closed {
                plugin: self.plugin().to_string(),
                reason: reason.clone(),
            });
        }
        self.store.data_mut().cpu.start_call();
        self.store.set_epoch_deadline(1);
        Ok(())
    }

    /// Turns the outcome of a call into its answer, or into the reason it failed (closing the
    /// session when the instance cannot be trusted any more).
    fn finish<R>(
        &mut self,
        outcome: Result<wasmtime::Result<R>, tokio::time::error::Elapsed>,
    ) -> Result<R, CallError> {
        match outcome {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err(self.crash(error)),
            Err(_) => {
                let error = CallError::Timeout {
                    plugin: self.plugin().to_string(),
                    after: self.store.data().grants.limits.call_timeout,
                };
                self.closed = Some(error.to_string());
                Err(error)
            }
        }
    }

    /// Explains a trap: which bound was broken, or what the plugin said when it panicked.
    fn crash(&mut self, error: wasmtime::Error) -> CallError {
        let state = self.store.data();
        let plugin = state.grants.caller.clone();
        let failure = if state.cpu_exceeded {
            CallError::CpuBudget {
                plugin,
                budget_ms: state.grants.limits.cpu_budget.as_millis(),
            }
        } else if let Some(wanted) = state.memory.refused {
            CallError::Memory {
                plugin,
                limit_mb: state.memory.limit() >> 20,
                wanted_mb: wanted.div_ceil(1 << 20),
            }
        } else {
            let message = panic_message(&state.stderr.tail()).unwrap_or_else(|| match error
                .downcast_ref::<wasmtime::Trap>(
            ) {
                Some(trap) => format!("trap: {trap}"),
                None => format!("{error:#}"),
            });
            CallError::Crashed { plugin, message }
        };
        self.closed = Some(failure.to_string());
        failure
    }

    /// Makes what the plugin stored in the call durable, now that the host may act on its
    /// answer.
    fn make_durable(&self) -> Result<(), CallError> {
        let state = self.store.data();
        state
            .grants
            .kv
            .make_durable()
            .map_err(|e| CallError::Crashed {
                plugin: state.grants.caller.clone(),
                message: format!("the host's state store failed: {e:#}"),
            })
    }

    fn missing(&self, field: &str) -> CallError {
        CallError::Missing {
            plugin: self.plugin().to_string(),
            interface: field.replace('_', "-"),
        }
    }
}

/// Runs one entry into the plugin (its instantiation or a call): ended after `timeout`, with the
/// epoch ticking meanwhile so that its computation budget is kept.
async fn bounded<F: std::future::Future>(
    ticker: &Arc<EpochTicker>,
    timeout: Duration,
    entry: F,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    let _running = ticker.running();
    tokio::time::timeout(timeout, entry).await
}

/// The body of every call: bounded, and explained when it fails.
macro_rules! call_body {
    ($self:ident, $field:ident.$method:ident($($arg:ident),*)) => {{
        $self.begin()?;
        let timeout = $self.store.data().grants.limits.call_timeout;
        let guest = $self.guests.$field.as_ref().ok_or_else(|| $self.missing(stringify!($field)))?;
        let started = std::time::Instant::now();
        let outcome = bounded(&$self.plugin.ticker, timeout, guest.$method(&mut $self.store, $($arg),*)).await;
        let grants = &$self.store.data().grants;
        if let Some(metrics) = &grants.metrics {
            let function = stringify!($method).trim_start_matches("call_");
            metrics.plugin_call(&grants.caller, function, started.elapsed());
        }
        let answer = $self.finish(outcome);
        $self.make_durable()?;
        answer
    }};
}

/// A call that returns its answer as is.
macro_rules! call {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $field:ident.$method:ident) => {
        $(#[$doc])*
        pub async fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, CallError> {
            call_body!(self, $field.$method($($arg),*))
        }
    };
}

/// A call whose answer is `result<T, plugin-error>`: the plugin's own error becomes
/// [`CallError::Plugin`].
macro_rules! fallible_call {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $field:ident.$method:ident) => {
        $(#[$doc])*
        pub async fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, CallError> {
            call_body!(self, $field.$method($($arg),*))?.map_err(CallError::Plugin)
        }
    };
}

type Entity = guest::transformer::Entity;

impl Session {
    call!(
        /// Who a connector is.
        fn connector_info() -> guest::connector::ConnectorInfo = connector.call_info
    );
    call!(
        /// Who a transform is.
        fn transform_info() -> guest::transformer::TransformInfo = transformer.call_info
    );
    call!(
        /// Runs a transform over a batch: one verdict per record.
        fn transform(context: &guest::transformer::FlowContext, batch: &[Entity]) -> Vec<guest::transformer::Verdict> = transformer.call_transform
    );
    fallible_call!(
        /// Checks a connector's connection.
        fn check() -> String = connector.call_check
    );
    fallible_call!(
        /// The values a connector's system offers for one of the set-up wizard's questions.
        fn choices(which: guest::connector::ChoiceList) -> Vec<guest::connector::Choice> = connector.call_choices
    );
    fallible_call!(
        /// Reads a page of orders.
        fn read_orders(query: &guest::orders_source::OrderQuery) -> guest::orders_source::OrderPage = orders_source.call_read_orders
    );
    fallible_call!(
        /// Finds the orders the target has with these markers.
        fn find_orders(lookups: &[guest::orders_sink::MarkerLookup]) -> Vec<guest::orders_sink::MarkerRef> = orders_sink.call_find_orders
    );
    fallible_call!(
        /// Creates orders, each with its marker.
        fn create_orders(orders: &[guest::orders_sink::OrderSubmission]) -> Vec<types::RecordResult> = orders_sink.call_create_orders
    );
    fallible_call!(
        /// Finds customers by e-mail.
        fn find_customers(emails: &[String]) -> Vec<guest::customers::CustomerRef> = customers.call_find_customers
    );
    fallible_call!(
        /// Creates or updates customers.
        fn write_customers(customers: &[guest::customers::CustomerWrite]) -> Vec<types::RecordResult> = customers.call_write_customers
    );
    fallible_call!(
        /// Reads a page of products.
        fn read_products(query: &guest::products_source::ProductQuery) -> guest::products_source::ProductPage = products_source.call_read_products
    );
    fallible_call!(
        /// Finds products and variants by SKU.
        fn find_products(skus: &[String]) -> Vec<types::ProductRef> = products_sink.call_find_products
    );
    fallible_call!(
        /// Creates or updates products.
        fn write_products(products: &[guest::products_sink::ProductWrite]) -> Vec<types::RecordResult> = products_sink.call_write_products
    );
    fallible_call!(
        /// The names of the product properties the system has.
        fn list_properties() -> Vec<String> = product_properties.call_list_properties
    );
    fallible_call!(
        /// Reads a page of stock levels.
        fn read_stock(query: &guest::stock_source::StockQuery) -> guest::stock_source::StockPage = stock_source.call_read_stock
    );
    fallible_call!(
        /// Writes stock levels.
        fn write_stock(updates: &[guest::stock_sink::StockUpdate]) -> Vec<types::RecordResult> = stock_sink.call_write_stock
    );
    fallible_call!(
        /// Reads the category tree.
        fn read_categories() -> Vec<types::Category> = categories_source.call_read_categories
    );
    fallible_call!(
        /// Creates or updates categories.
        fn write_categories(categories: &[guest::categories_sink::CategoryWrite]) -> Vec<types::RecordResult> = categories_sink.call_write_categories
    );
    fallible_call!(
        /// Puts products in categories.
        fn link_products(links: &[guest::categories_sink::CategoryLink]) -> Vec<types::RecordResult> = categories_sink.call_link_products
    );
}
