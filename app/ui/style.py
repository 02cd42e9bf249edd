"""The app's look: a light sidebar, clear titles, readable tables (Qt style sheet)."""

from __future__ import annotations

STYLE_SHEET = """
QListWidget#sidebar {
    background: #eef2f7;
    border: none;
    border-right: 1px solid #d0d7e2;
    font-size: 11pt;
    padding-top: 8px;
}
QListWidget#sidebar::item { padding: 9px 14px; }
QListWidget#sidebar::item:selected { background: #005eb8; color: white; }
QLabel#screenTitle { font-size: 15pt; font-weight: 600; color: #003087; }
QLabel#patientName { font-size: 16pt; font-weight: 600; color: #003087; }
QLabel#patientNhs { font-size: 12pt; font-weight: 600; }
QLabel#patientBorn { font-size: 11pt; }
QStatusBar::item { border: none; }
QStatusBar QLabel { padding: 0 10px; border-left: 1px solid #d0d7e2; }
QLabel#factKey { color: #4c6272; font-weight: 600; }
QLabel#cohort { font-style: italic; color: #330072; padding: 2px 0 6px 0; }
QLabel#hint { color: #4c6272; }
QLabel#banner { background: #425563; color: white; padding: 4px 8px; font-weight: 600; }
QGroupBox { font-weight: 600; margin-top: 8px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QTableView { gridline-color: #e1e6ec; selection-background-color: #41b6e6;
             selection-color: black; }
QHeaderView::section { background: #f0f4f5; padding: 4px; border: none;
                       border-bottom: 1px solid #d0d7e2; font-weight: 600; }
"""
