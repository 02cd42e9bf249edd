"""The service directory editor: add a service, edit one (seeded or added), take one out of
use for new referrals or bring it back. Services are never deleted: referrals point at them."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError
from app.core.reference import MAX_RESPONSE_DAYS, SERVICE_KIND_LABELS, SERVICE_KINDS
from app.services.directory import (
    ServiceView,
    add_service,
    deactivate_service,
    list_services,
    localities,
    reactivate_service,
    update_service,
)
from app.ui.models.directory import ServiceModel
from app.ui.shell import Shell
from app.ui.widgets.form import ErrorLabel


@dataclass(frozen=True)
class DirectoryData:
    services: tuple[ServiceView, ...]
    localities: tuple[str, ...]


def load_directory(session: Session) -> DirectoryData:
    return DirectoryData(
        tuple(list_services(session, active_only=False)), tuple(localities(session))
    )


class DirectoryDialog(QDialog):
    service_saved = Signal(object)  # ServiceView

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.data: DirectoryData | None = None
        self.editing: ServiceView | None = None
        self._select_after: str | None = None
        self.setWindowTitle(self.tr("Service directory"))
        self.resize(1180, 680)
        self._build()
        self._connect()
        self.load()

    def _build(self) -> None:
        self.kind_filter = QComboBox()
        self.kind_filter.setAccessibleName(self.tr("Show services of kind"))
        self.kind_filter.addItem(self.tr("All kinds"), None)
        for kind in SERVICE_KINDS:
            self.kind_filter.addItem(self.tr(SERVICE_KIND_LABELS[kind]), kind)
        self.show_inactive = QCheckBox(self.tr("Show services no longer in use"))
        self.show_inactive.setAccessibleName(self.tr("Show inactive services"))
        self.services = ServiceModel(self)
        self.table = QTableView()
        self.table.setAccessibleName(self.tr("Services"))
        self.table.setModel(self.services)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 170), (2, 120), (3, 80), (4, 55)):
            self.table.setColumnWidth(col, width)
        filters = QHBoxLayout()
        filters.addWidget(self.kind_filter, 1)
        filters.addWidget(self.show_inactive)
        left = QWidget()
        lbox = QVBoxLayout(left)
        lbox.setContentsMargins(0, 0, 0, 0)
        lbox.addLayout(filters)
        lbox.addWidget(self.table, 1)

        self.kind = QComboBox()
        self.kind.setAccessibleName(self.tr("Kind of service"))
        for kind in SERVICE_KINDS:
            self.kind.addItem(self.tr(SERVICE_KIND_LABELS[kind]), kind)
        self.name = QLineEdit()
        self.name.setAccessibleName(self.tr("Service name"))
        self.locality = QComboBox()
        self.locality.setAccessibleName(self.tr("Locality the service covers"))
        self.description = QPlainTextEdit()
        self.description.setAccessibleName(self.tr("What the service does"))
        self.description.setTabChangesFocus(True)
        self.how_to_refer = QPlainTextEdit()
        self.how_to_refer.setAccessibleName(self.tr("How to refer"))
        self.how_to_refer.setTabChangesFocus(True)
        self.how_to_refer.setFixedHeight(60)
        self.contact = QLineEdit()
        self.contact.setAccessibleName(self.tr("Contact"))
        self.response_days = QSpinBox()
        self.response_days.setAccessibleName(self.tr("Working days to expect a reply"))
        self.response_days.setRange(0, MAX_RESPONSE_DAYS)
        self.response_days.setValue(5)
        self.response_days.setSuffix(self.tr(" working days"))
        for inner in self.response_days.findChildren(QLineEdit):
            inner.setAccessibleName(self.response_days.accessibleName())
        self.state = QLabel()
        self.state.setObjectName("hint")
        self.state.setWordWrap(True)
        self.form_box = QGroupBox(self.tr("New service"))
        form = QFormLayout(self.form_box)
        for text, widget in (
            (self.tr("&Kind"), self.kind),
            (self.tr("&Name"), self.name),
            (self.tr("&Locality"), self.locality),
            (self.tr("&What it does"), self.description),
            (self.tr("&How to refer"), self.how_to_refer),
            (self.tr("&Contact"), self.contact),
            (self.tr("&Replies within"), self.response_days),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        form.addRow(self.state)
        self.error = ErrorLabel(self.tr("the service"))
        form.addRow(self.error)
        self.new_button = QPushButton(self.tr("N&ew service"))
        self.new_button.setAccessibleName(self.tr("Clear the form to add a new service"))
        self.save_button = QPushButton(self.tr("&Save"))
        self.save_button.setAccessibleName(self.tr("Save the service"))
        self.active_button = QPushButton(self.tr("&Deactivate"))
        self.active_button.setAccessibleName(self.tr("Take the service out of use"))
        form_buttons = QHBoxLayout()
        form_buttons.addWidget(self.new_button)
        form_buttons.addStretch(1)
        form_buttons.addWidget(self.active_button)
        form_buttons.addWidget(self.save_button)
        right = QWidget()
        rbox = QVBoxLayout(right)
        rbox.setContentsMargins(0, 0, 0, 0)
        rbox.addWidget(self.form_box, 1)
        rbox.addLayout(form_buttons)

        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([680, 500])
        split.setChildrenCollapsible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(self.buttons)
        self.new_service()

    def _connect(self) -> None:
        self.buttons.rejected.connect(self.reject)
        self.kind_filter.currentIndexChanged.connect(self._filter)
        self.show_inactive.toggled.connect(self._filter)
        self.table.selectionModel().selectionChanged.connect(self._chosen)
        self.new_button.clicked.connect(self.new_service)
        self.save_button.clicked.connect(self.save)
        self.active_button.clicked.connect(self._toggle_active)

    def load(self) -> None:
        self.shell.runner.read(load_directory, on_success=self._loaded, on_failure=self._refused)

    def _loaded(self, data: DirectoryData) -> None:
        self.data = data
        current = self.locality.currentData()
        self.locality.clear()
        self.locality.addItem(self.tr("Everywhere (all localities)"), None)
        for name in data.localities:
            self.locality.addItem(name, name)
        self.locality.setCurrentIndex(max(self.locality.findData(current), 0))
        self._filter()

    def _filter(self) -> None:
        if self.data is None:
            return
        kind, inactive = self.kind_filter.currentData(), self.show_inactive.isChecked()
        rows = [
            s
            for s in self.data.services
            if (kind is None or s.kind == kind) and (inactive or s.active)
        ]
        wanted = self._select_after or (self.editing.id if self.editing else None)
        self._select_after = None
        self.services.set_rows(rows)
        for n, s in enumerate(rows):
            if s.id == wanted:
                self.table.selectRow(n)
                return
        if self.editing is not None and wanted is not None:
            self.new_service()

    def _chosen(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        service = self.services.row_at(rows[0].row()) if rows else None
        if service is not None:
            self.edit_service(service)

    def new_service(self) -> None:
        self.editing = None
        self.table.clearSelection()
        self.form_box.setTitle(self.tr("New service"))
        self.kind.setCurrentIndex(0)
        for w in (self.name, self.contact):
            w.clear()
        for t in (self.description, self.how_to_refer):
            t.clear()
        self.locality.setCurrentIndex(0)
        self.response_days.setValue(5)
        self.state.setText(self.tr("Fill in the service and press Save to add it."))
        self.active_button.setEnabled(False)
        self.error.clear_error()
        self.name.setFocus()

    def edit_service(self, s: ServiceView) -> None:
        self.editing = s
        self.form_box.setTitle(self.tr("Edit: %1").replace("%1", s.name))
        self.kind.setCurrentIndex(max(self.kind.findData(s.kind), 0))
        self.name.setText(s.name)
        self.locality.setCurrentIndex(max(self.locality.findData(s.locality), 0))
        self.description.setPlainText(s.description or "")
        self.how_to_refer.setPlainText(s.how_to_refer or "")
        self.contact.setText(s.contact or "")
        self.response_days.setValue(s.response_days)
        origin = self.tr("Shipped with CareCoord") if s.seeded else self.tr("Added by the team")
        use = self.tr("offered for new referrals") if s.active else self.tr("no longer in use")
        self.state.setText(f"{origin} · {use} · {s.code}")
        self.active_button.setEnabled(True)
        self.active_button.setText(self.tr("&Deactivate") if s.active else self.tr("Re&activate"))
        self.error.clear_error()

    def _values(self) -> dict[str, object]:
        return {
            "kind": self.kind.currentData(),
            "name": self.name.text(),
            "locality": self.locality.currentData(),
            "description": self.description.toPlainText() or None,
            "how_to_refer": self.how_to_refer.toPlainText() or None,
            "contact": self.contact.text() or None,
            "response_days": self.response_days.value(),
        }

    def save(self) -> None:
        self.error.clear_error()
        values = self._values()
        editing = self.editing.id if self.editing is not None else None

        def job(session: Session) -> ServiceView:
            if editing is None:
                return add_service(session, **values)  # type: ignore[arg-type]
            return update_service(session, service_id=editing, **values)

        self.save_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._saved, on_failure=self._refused)

    def _toggle_active(self) -> None:
        if self.editing is None:
            return
        sid, active = self.editing.id, self.editing.active

        def job(session: Session) -> ServiceView:
            if active:
                return deactivate_service(session, service_id=sid)
            return reactivate_service(session, service_id=sid)

        self.shell.runner.write(job, on_success=self._saved, on_failure=self._refused)

    def _saved(self, service: ServiceView) -> None:
        self.save_button.setEnabled(True)
        self.editing = service
        self._select_after = service.id
        if not service.active:
            self.show_inactive.setChecked(True)
        self.service_saved.emit(service)
        self.load()

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, CareCoordError):
            self.error.show_error(str(exc))
        else:
            self.error.show_error(
                self.tr("The service could not be saved: %1").replace("%1", str(exc))
            )
