//! Keeping a `gio::ListStore` of objects in step with a list read from libvirt, keyed
//! by name and sorted by it: objects still there are updated in place (their rows keep
//! their widgets and selection), gone ones are removed, new ones inserted where they
//! sort, each with the smallest `items-changed`.

use gio::prelude::*;

/// An object that a list holds under a name.
pub(super) trait Keyed: IsA<glib::Object> {
    /// The data it is made from.
    type Info;
    /// The key of a piece of data.
    fn key_of(info: &Self::Info) -> &str;
    /// The object's key.
    fn key(&self) -> String;
    /// A new object for `info`.
    fn make(info: Self::Info) -> Self;
    /// Takes `info` in, notifying what changed.
    fn apply(&self, info: Self::Info);
}

/// The objects of `store`, in order.
pub(super) fn items<O: Keyed>(store: &gio::ListStore) -> Vec<O> {
    store.iter::<O>().filter_map(Result::ok).collect()
}

/// The object named `key`, if `store` holds one.
pub(super) fn find<O: Keyed>(store: &gio::ListStore, key: &str) -> Option<O> {
    store
        .iter::<O>()
        .filter_map(Result::ok)
        .find(|o| o.key() == key)
}

/// Makes `store` hold exactly `infos` (any order; the store sorts by key).
pub(super) fn reconcile<O: Keyed>(store: &gio::ListStore, mut infos: Vec<O::Info>) {
    infos.sort_by(|a, b| O::key_of(a).cmp(O::key_of(b)));
    // Removals, from the end so positions stay valid.
    let keep: std::collections::HashSet<String> =
        infos.iter().map(|i| O::key_of(i).to_owned()).collect();
    for pos in (0..store.n_items()).rev() {
        if let Some(o) = store.item(pos).and_downcast::<O>() {
            if !keep.contains(&o.key()) {
                store.remove(pos);
            }
        }
    }
    // Updates and insertions in sorted order.
    for (pos, info) in infos.into_iter().enumerate() {
        let here = store.item(pos as u32).and_downcast::<O>();
        match here {
            Some(o) if o.key() == O::key_of(&info) => o.apply(info),
            _ => store.insert(pos as u32, &O::make(info)),
        }
    }
}

/// Adds or updates one object (`Some`) or removes the one named `key` (`None`).
pub(super) fn upsert<O: Keyed>(
    store: &gio::ListStore,
    key: &str,
    info: Option<O::Info>,
) -> Option<O> {
    let existing = (0..store.n_items()).find(|&p| {
        store
            .item(p)
            .and_downcast::<O>()
            .is_some_and(|o| o.key() == key)
    });
    match (existing, info) {
        (Some(pos), Some(info)) => {
            let o = store.item(pos).and_downcast::<O>()?;
            o.apply(info);
            Some(o)
        }
        (Some(pos), None) => {
            store.remove(pos);
            None
        }
        (None, Some(info)) => {
            let o = O::make(info);
            let pos = (0..store.n_items())
                .find(|&p| {
                    store
                        .item(p)
                        .and_downcast::<O>()
                        .is_some_and(|x| x.key().as_str() > key)
                })
                .unwrap_or(store.n_items());
            store.insert(pos, &o);
            Some(o)
        }
        (None, None) => None,
    }
}

/// Notifies every property of `obj` but those named in `except` (after its data was
/// replaced as a whole), in one frozen batch.
pub(super) fn notify_all(obj: &impl IsA<glib::Object>, except: &[&str]) {
    let _guard = obj.freeze_notify();
    for p in obj.list_properties().iter() {
        if !except.contains(&p.name()) {
            obj.notify_by_pspec(p);
        }
    }
}
