"""The main window: navigation, the status bar, remembered geometry, About, shortcuts."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from sqlalchemy import select

from app import __version__
from app.core.timeutil import to_local
from app.models import Op
from app.ui.main_window import MainWindow
from app.ui.registry import SCREENS


def test_sidebar_lists_every_registered_screen_and_switches_pages(qtbot, window) -> None:
    titles = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert titles == ["Today", "Caseload", "MDT", "Reports", "Sync", "Settings"]
    assert len(SCREENS) == window.nav.count()
    window.nav.setCurrentRow(1)
    assert window.stack.currentWidget() is window.screens["caseload"]
    window.show_screen("sync")
    assert window.nav.currentRow() == 4


def test_every_screen_is_a_real_screen(window) -> None:
    """No navigation entry leads to a stand-in page: each screen is its own class."""
    kinds = {s.key: type(window.get_screen(s.key)).__name__ for s in SCREENS}
    assert set(kinds) == {"today", "caseload", "mdt", "reports", "sync", "settings"}
    assert len(set(kinds.values())) == len(kinds)
    assert set(window.screens) == set(kinds)


def test_only_the_screen_shown_is_built_the_others_on_their_first_visit(qtbot, window) -> None:
    assert set(window.screens) == {"today"}
    assert window._patient is None
    window.nav.setCurrentRow(2)
    assert set(window.screens) == {"today", "mdt"}
    assert window.stack.currentWidget() is window.screens["mdt"]
    window.go_back()
    assert window.current_key() == "today"
    assert window.stack.currentWidget() is window.screens["today"]


def test_status_bar_shows_as_of_unsynced_and_who_is_signed_in(qtbot, window, ctx) -> None:
    assert window.user_label.text() == "Signed in: Amira Shah"
    with ctx.db.read() as s:
        unsynced = s.query(Op).filter(Op.exported.is_(False)).count()
        latest = s.scalar(select(Op.received_at).order_by(Op.local_order.desc()).limit(1))
    assert window.unsynced_label.text() == f"{unsynced:,} changes not yet synced"
    assert window.as_of_label.text() == f"Data as of {to_local(latest):%d/%m/%Y %H:%M}"
    window.runner.wait()
    with ctx.db.write() as s:
        s.query(Op).update({Op.exported: True})
    window.refresh_status()
    qtbot.waitUntil(lambda: window.unsynced_label.text() == "0 changes not yet synced")


def test_window_geometry_and_screen_are_remembered_per_data_folder(qtbot, ctx, qt_settings) -> None:
    first = MainWindow(ctx, settings=qt_settings)
    qtbot.addWidget(first)
    first.resize(700, 500)
    first.show_screen("reports")
    first.close()
    first.runner.wait()
    settings = QSettings(qt_settings.fileName(), QSettings.Format.IniFormat)
    groups = settings.childGroups()
    assert groups == ["windows"]
    again = MainWindow(ctx, settings=settings)
    qtbot.addWidget(again)
    assert again.current_key() == "reports"
    assert (again.width(), again.height()) == (700, 500)
    again.close()
    again.runner.wait()


def test_about_names_the_version(qtbot, window, monkeypatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda _p, _t, text: shown.append(text))
    window.about()
    assert __version__ in shown[0]


def test_ctrl_f_goes_to_the_caseload_search(qtbot, window) -> None:
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.screens["caseload"]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.screens["caseload"].search)


def test_every_control_has_an_accessible_name_and_takes_focus(window) -> None:
    pages = [*(window.get_screen(s.key) for s in SCREENS), window.patient]
    interactive = (
        "QPushButton",
        "QLineEdit",
        "QComboBox",
        "QCheckBox",
        "QTableView",
        "QListWidget",
        "QTabWidget",
        "QTextBrowser",
        "QSpinBox",
    )
    for page in [window, *pages]:
        for w in page.findChildren(QWidget):
            if type(w).__name__ in interactive:
                assert w.accessibleName(), f"{type(w).__name__} in {page.objectName()} unnamed"
                assert w.focusPolicy() & Qt.FocusPolicy.TabFocus, w.accessibleName()


def test_ctrl_n_opens_a_new_patient_form(qtbot, window) -> None:
    from app.ui.dialogs.patient_form import PatientDialog

    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(PatientDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowTitle() == "New patient"
    dialog.reject()


def test_ctrl_l_without_a_discharge_says_what_to_do(qtbot, window) -> None:
    window.show_screen("caseload")
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert "Select a discharge" in window.statusBar().currentMessage()
