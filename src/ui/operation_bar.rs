//! The long operation running on a VM (snapshot, clone, move) as a bar: its title,
//! what it does now, a progress bar (pulsing while the fraction is unknown) and
//! Cancel while the operation can be cancelled. It follows a VM's `operation`
//! property; the VM's tab and the clone and move dialogs show one, and it hides
//! itself while no operation runs.

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{glib, CompositeTemplate};

use crate::model::{DomainObject, OperationObject};

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::OperationBar)]
    #[template(resource = "/io/github/vireo/Vireo/ui/operation-bar.ui")]
    pub struct OperationBar {
        /// The VM whose operations the bar shows.
        #[property(get, set = Self::set_domain, nullable)]
        pub(super) domain: RefCell<Option<DomainObject>>,
        pub(super) domain_handler: RefCell<Option<glib::SignalHandlerId>>,
        /// The operation shown (none: the bar hides).
        pub(super) operation: RefCell<Option<OperationObject>>,
        #[template_child]
        pub(super) title_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) text_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) progress_bar: TemplateChild<gtk::ProgressBar>,
        #[template_child]
        pub(super) cancel_button: TemplateChild<gtk::Button>,
        pub(super) handlers: RefCell<Vec<glib::SignalHandlerId>>,
        pub(super) pulse: RefCell<Option<glib::SourceId>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for OperationBar {
        const NAME: &'static str = "VireoOperationBar";
        type Type = super::OperationBar;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BoxLayout>();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for OperationBar {
        fn constructed(&self) {
            self.parent_constructed();
            if let Some(layout) = self.obj().layout_manager().and_downcast::<gtk::BoxLayout>() {
                layout.set_spacing(12);
            }
            self.cancel_button.connect_clicked(glib::clone!(
                #[weak(rename_to = bar)]
                self.obj(),
                move |_| {
                    let op = bar.imp().operation.borrow().clone();
                    if let Some(op) = op {
                        op.cancel();
                    }
                }
            ));
        }

        fn dispose(&self) {
            self.set_domain(None);
            // Template children without an id are not disposed by dispose_template.
            while let Some(child) = self.obj().first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for OperationBar {}

    impl OperationBar {
        fn set_domain(&self, domain: Option<DomainObject>) {
            if let (Some(old), Some(handler)) = (self.domain.take(), self.domain_handler.take()) {
                old.disconnect(handler);
            }
            if let Some(domain) = &domain {
                let handler = domain.connect_operation_notify(glib::clone!(
                    #[weak(rename_to = bar)]
                    self.obj(),
                    move |domain| bar.imp().set_operation(domain.operation())
                ));
                self.domain_handler.replace(Some(handler));
            }
            self.set_operation(domain.as_ref().and_then(DomainObject::operation));
            self.domain.replace(domain);
        }

        fn set_operation(&self, op: Option<OperationObject>) {
            if let Some(old) = self.operation.take() {
                for handler in self.handlers.take() {
                    old.disconnect(handler);
                }
            }
            if let Some(op) = &op {
                let bar = self.obj();
                let handlers = ["title", "text", "fraction", "cancellable", "running"]
                    .into_iter()
                    .map(|property| {
                        op.connect_notify_local(
                            Some(property),
                            glib::clone!(
                                #[weak]
                                bar,
                                move |_, _| bar.update()
                            ),
                        )
                    })
                    .collect();
                self.handlers.replace(handlers);
            }
            self.operation.replace(op);
            self.obj().update();
        }
    }
}

glib::wrapper! {
    pub struct OperationBar(ObjectSubclass<imp::OperationBar>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for OperationBar {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl OperationBar {
    fn update(&self) {
        let imp = self.imp();
        let op = imp.operation.borrow().clone().filter(|op| op.running());
        self.set_visible(op.is_some());
        let Some(op) = op else {
            self.stop_pulse();
            return;
        };
        imp.title_label.set_label(&op.title());
        imp.text_label.set_label(&op.text());
        imp.text_label.set_visible(!op.text().is_empty());
        imp.cancel_button.set_visible(op.cancellable());
        let fraction = op.fraction();
        if fraction >= 0.0 {
            self.stop_pulse();
            imp.progress_bar.set_fraction(fraction);
        } else if imp.pulse.borrow().is_none() {
            // No fraction known (a snapshot, a revert): the bar says it is busy.
            let id = glib::timeout_add_local(
                std::time::Duration::from_millis(150),
                glib::clone!(
                    #[weak(rename_to = bar)]
                    self,
                    #[upgrade_or]
                    glib::ControlFlow::Break,
                    move || {
                        bar.imp().progress_bar.pulse();
                        glib::ControlFlow::Continue
                    }
                ),
            );
            imp.pulse.replace(Some(id));
        }
        let accessible = [op.title(), op.text()]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        imp.progress_bar
            .update_property(&[gtk::accessible::Property::Label(&accessible)]);
    }

    fn stop_pulse(&self) {
        if let Some(id) = self.imp().pulse.take() {
            id.remove();
        }
    }
}
