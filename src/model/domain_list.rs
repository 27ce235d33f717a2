//! `DomainList`: the domains of one connection as a `gio::ListModel`, keyed by UUID.
//!
//! Changes emit the smallest `items-changed`: one per removal, one per batch of
//! appends, never a full reset; a refresh updates the objects in place, so rows keep
//! their widgets and selection.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use gio::prelude::*;
use gio::subclass::prelude::*;

use super::{ConnectionObject, DomainObject};
use crate::virt::domains::DomainRecord;

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct DomainList {
        pub(super) items: RefCell<Vec<DomainObject>>,
        pub(super) index: RefCell<HashMap<String, usize>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DomainList {
        const NAME: &'static str = "VireoDomainList";
        type Type = super::DomainList;
        type Interfaces = (gio::ListModel,);
    }

    impl ObjectImpl for DomainList {}

    impl ListModelImpl for DomainList {
        fn item_type(&self) -> glib::Type {
            DomainObject::static_type()
        }

        fn n_items(&self) -> u32 {
            self.items.borrow().len() as u32
        }

        fn item(&self, position: u32) -> Option<glib::Object> {
            self.items
                .borrow()
                .get(position as usize)
                .map(|o| o.clone().upcast())
        }
    }
}

glib::wrapper! {
    /// The domains of one connection.
    pub struct DomainList(ObjectSubclass<imp::DomainList>)
        @implements gio::ListModel;
}

impl Default for DomainList {
    fn default() -> Self {
        Self::new()
    }
}

impl DomainList {
    /// An empty list.
    pub fn new() -> Self {
        glib::Object::new()
    }

    /// The domain with this UUID, if listed.
    pub fn by_uuid(&self, uuid: &str) -> Option<DomainObject> {
        let pos = *self.imp().index.borrow().get(uuid)?;
        self.imp().items.borrow().get(pos).cloned()
    }

    /// Position of the domain with this UUID.
    pub fn position(&self, uuid: &str) -> Option<u32> {
        self.imp().index.borrow().get(uuid).map(|p| *p as u32)
    }

    /// A copy of the current items (cheap: reference counts).
    pub fn snapshot(&self) -> Vec<DomainObject> {
        self.imp().items.borrow().clone()
    }

    /// Number of domains.
    pub fn len(&self) -> usize {
        self.imp().items.borrow().len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends domains (skipping UUIDs already listed) with one `items-changed`.
    pub(crate) fn append(&self, objs: Vec<DomainObject>) {
        let imp = self.imp();
        let start;
        let added;
        {
            let mut items = imp.items.borrow_mut();
            let mut index = imp.index.borrow_mut();
            start = items.len();
            for o in objs {
                if o.with_uuid(|u| index.contains_key(u)) {
                    continue;
                }
                index.insert(o.with_uuid(str::to_owned), items.len());
                items.push(o);
            }
            added = items.len() - start;
        }
        if added > 0 {
            self.items_changed(start as u32, 0, added as u32);
        }
    }

    /// Removes the domain with this UUID; returns it.
    pub(crate) fn remove(&self, uuid: &str) -> Option<DomainObject> {
        let imp = self.imp();
        let (pos, obj) = {
            let mut items = imp.items.borrow_mut();
            let mut index = imp.index.borrow_mut();
            let pos = index.remove(uuid)?;
            let obj = items.remove(pos);
            // Shift the indices after the hole.
            for (i, o) in items.iter().enumerate().skip(pos) {
                o.with_uuid(|u| {
                    if let Some(slot) = index.get_mut(u) {
                        *slot = i;
                    }
                });
            }
            (pos, obj)
        };
        self.items_changed(pos as u32, 1, 0);
        Some(obj)
    }

    /// Removes everything with one `items-changed`.
    pub(crate) fn clear(&self) {
        let n = {
            let mut items = self.imp().items.borrow_mut();
            let n = items.len();
            items.clear();
            self.imp().index.borrow_mut().clear();
            n
        };
        if n > 0 {
            self.items_changed(0, n as u32, 0);
        }
    }

    /// Makes the list match `records` exactly: updates known UUIDs in place, removes
    /// the ones gone, appends the new ones. Returns the UUIDs that were added.
    pub(crate) fn reconcile(
        &self,
        records: &[DomainRecord],
        connection: Option<&ConnectionObject>,
    ) -> Vec<String> {
        let present: HashSet<&str> = records.iter().map(|r| r.uuid.as_str()).collect();
        let gone: Vec<String> = self
            .imp()
            .items
            .borrow()
            .iter()
            .filter(|o| o.with_uuid(|u| !present.contains(u)))
            .map(|o| o.with_uuid(str::to_owned))
            .collect();
        for u in &gone {
            self.remove(u);
        }
        let mut new = Vec::new();
        for r in records {
            match self.by_uuid(&r.uuid) {
                Some(o) => o.apply_record(r),
                None => new.push(DomainObject::new(r, connection)),
            }
        }
        let added = new.iter().map(|o| o.with_uuid(str::to_owned)).collect();
        self.append(new);
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    fn rec(i: u32, name: &str) -> DomainRecord {
        DomainRecord {
            uuid: format!("00000000-0000-0000-0000-{i:012}"),
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn reconcile_emits_minimal_changes_and_keeps_objects() {
        let list = DomainList::new();
        let log = Rc::new(RefCell::new(Vec::new()));
        let l2 = log.clone();
        list.connect_items_changed(move |_, p, r, a| l2.borrow_mut().push((p, r, a)));

        let added = list.reconcile(&[rec(1, "a"), rec(2, "b"), rec(3, "c")], None);
        assert_eq!(added.len(), 3);
        assert_eq!(*log.borrow(), vec![(0, 0, 3)], "one batch insert");
        let b = list.by_uuid(&rec(2, "").uuid).unwrap();

        // b renamed, a gone, d new: one removal, one insert, b updated in place.
        log.borrow_mut().clear();
        list.reconcile(&[rec(2, "b2"), rec(3, "c"), rec(4, "d")], None);
        assert_eq!(*log.borrow(), vec![(0, 1, 0), (2, 0, 1)]);
        assert_eq!(list.len(), 3);
        let b_again = list.by_uuid(&rec(2, "").uuid).unwrap();
        assert!(b_again == b, "same object");
        assert_eq!(b.name(), "b2");
        for (i, o) in list.snapshot().iter().enumerate() {
            assert_eq!(list.position(&o.uuid()), Some(i as u32));
            assert_eq!(
                list.item(i as u32).and_downcast::<DomainObject>().as_ref(),
                Some(o)
            );
        }

        // Appending a known UUID does nothing.
        log.borrow_mut().clear();
        list.append(vec![DomainObject::new(&rec(3, "dup"), None)]);
        assert!(log.borrow().is_empty());
        assert_eq!(list.len(), 3);

        list.clear();
        assert_eq!(*log.borrow(), vec![(0, 3, 0)]);
        assert!(list.by_uuid(&rec(3, "").uuid).is_none());
    }
}
