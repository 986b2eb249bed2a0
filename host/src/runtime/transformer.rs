//! A transform's exports, type-checked once per component instead of once per instance.
//!
//! The generated bindings compare the WIT types of `info` and `transform` (orders, products,
//! stock levels, field by field and name by name) with the host's every time an instance is
//! bound: a quarter of what starting a transform cost (`cargo bench --bench runtime`). The types
//! of a component's exports are the component's, so this checks them on its first instance and
//! binds every later instance by index alone, as the generated code itself calls them.

use std::sync::OnceLock;

use wasmtime::AsContextMut;
use wasmtime::component::{ComponentExportIndex, Func, Instance, InstancePre, TypedFunc};

use super::bindings::exports::tillbridge::plugin::transformer::{
    Entity, FlowContext, TransformInfo, Verdict,
};
use super::host::PluginState;
use super::inspect::{WIT_PACKAGE, WIT_VERSION};

type InfoFn = TypedFunc<(), (TransformInfo,)>;
type TransformFn<'a> = TypedFunc<(&'a FlowContext, &'a [Entity]), (Vec<Verdict>,)>;

/// Where a component's transformer functions are, found at load.
pub(super) struct TransformerExports {
    info: ComponentExportIndex,
    transform: ComponentExportIndex,
    /// Set once an instance of this component had both functions checked against the host's
    /// signatures.
    checked: OnceLock<()>,
}

impl TransformerExports {
    /// The transformer of `pre`'s component, if it exports one.
    pub(super) fn new(pre: &InstancePre<PluginState>) -> Option<Self> {
        let component = pre.component();
        let interface = format!("{WIT_PACKAGE}/transformer@{WIT_VERSION}");
        let interface = component.get_export_index(None, &interface)?;
        Some(TransformerExports {
            info: component.get_export_index(Some(&interface), "info")?,
            transform: component.get_export_index(Some(&interface), "transform")?,
            checked: OnceLock::new(),
        })
    }

    /// The functions of `instance`: checked if this is the component's first instance.
    pub(super) fn bind(
        &self,
        mut store: impl AsContextMut<Data = PluginState>,
        instance: &Instance,
    ) -> wasmtime::Result<Transformer> {
        let mut store = store.as_context_mut();
        if self.checked.get().is_none() {
            // The very signatures the calls below assume, so that the check covers them.
            let _: InfoFn = instance.get_typed_func(&mut store, self.info)?;
            let _: TransformFn<'_> = instance.get_typed_func(&mut store, self.transform)?;
            // Set only after both checks passed: a component that failed is checked again
            // (and fails again) on its next instance.
            let _ = self.checked.set(());
        }
        let mut func = |index| {
            instance
                .get_func(&mut store, index)
                .ok_or_else(|| wasmtime::format_err!("the transformer lost an export"))
        };
        Ok(Transformer {
            info: func(self.info)?,
            transform: func(self.transform)?,
        })
    }
}

/// The transformer functions of one instance.
pub(super) struct Transformer {
    info: Func,
    transform: Func,
}

impl Transformer {
    /// Who the transform is.
    pub(super) async fn call_info(
        &self,
        mut store: impl AsContextMut<Data = PluginState>,
    ) -> wasmtime::Result<TransformInfo> {
        // SAFETY: `bind` handed out this function only after an instance of the same component
        // passed `get_typed_func` with this signature.
        let func: InfoFn = unsafe { TypedFunc::new_unchecked(self.info) };
        let (info,) = func.call_async(store.as_context_mut(), ()).await?;
        Ok(info)
    }

    /// Transforms a batch.
    pub(super) async fn call_transform(
        &self,
        mut store: impl AsContextMut<Data = PluginState>,
        context: &FlowContext,
        batch: &[Entity],
    ) -> wasmtime::Result<Vec<Verdict>> {
        // SAFETY: as in `call_info`.
        let func: TransformFn<'_> = unsafe { TypedFunc::new_unchecked(self.transform) };
        let (verdicts,) = func
            .call_async(store.as_context_mut(), (context, batch))
            .await?;
        Ok(verdicts)
    }
}
