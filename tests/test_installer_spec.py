"""The frozen build and the installers: everything the app reads at run time is bundled, and the
Windows and Linux installer files agree with the app's names, icon, data folder and version."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import pkgutil
import re
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import ModuleType
from typing import Any

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
INSTALLER = ROOT / "installer"
ISS = INSTALLER / "windows" / "carecoord.iss"
DESKTOP = INSTALLER / "linux" / "carecoord.desktop"
METAINFO = INSTALLER / "linux" / "uk.nhs.carecoord.metainfo.xml"
INSTALL_SH = INSTALLER / "linux" / "install.sh"
SPEC = INSTALLER / "carecoord.spec"

needs_pyinstaller = pytest.mark.skipif(
    importlib.util.find_spec("PyInstaller") is None,
    reason="PyInstaller is not installed (pip install -e '.[build]')",
)


def _pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, INSTALLER / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cb() -> Iterator[ModuleType]:
    saved = sys.modules.pop("carecoord_bundle", None)
    yield _load("carecoord_bundle")
    sys.modules.pop("carecoord_bundle", None)
    if saved is not None:
        sys.modules["carecoord_bundle"] = saved


@pytest.fixture(scope="module")
def build(cb: ModuleType) -> Iterator[ModuleType]:
    yield _load("build")
    sys.modules.pop("build", None)


def _iss_text() -> str:
    return ISS.read_text(encoding="utf-8")


def _iss_setup() -> dict[str, str]:
    """The [Setup] section's directives."""
    section = re.search(r"^\[Setup\]\n(.*?)^\[", _iss_text(), re.S | re.M)
    assert section is not None
    pairs = (line.split("=", 1) for line in section.group(1).splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith(";")}


def _iss_fallback_define(name: str) -> str:
    match = re.search(rf'#define {name} "([^"]*)"', _iss_text())
    assert match is not None, name
    return match.group(1)


# --- the spec builds from the shared lists --------------------------------------------------


def _calls(tree: ast.AST, func: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == func
    ]


def _kw(call: ast.Call, name: str) -> str:
    for kw in call.keywords:
        if kw.arg == name:
            return ast.unparse(kw.value)
    raise AssertionError(f"{name}= missing")


def test_spec_takes_data_imports_and_names_from_the_bundle_lists() -> None:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    (analysis,) = _calls(tree, "Analysis")
    assert _kw(analysis, "datas") == "cb.datas()"
    assert _kw(analysis, "hiddenimports") == "cb.hidden_imports()"
    assert "cb.LAUNCHER" in ast.unparse(analysis.args[0])
    (collect,) = _calls(tree, "COLLECT")
    assert _kw(collect, "name") == "cb.APP_NAME"
    exe_names = {_kw(call, "name") for call in _calls(tree, "EXE")}
    assert exe_names == {"cb.EXE_NAME", "cb.CLI_EXE_NAME"}


def test_launcher_runs_the_app_main() -> None:
    tree = ast.parse((INSTALLER / "launcher.py").read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert any(n.module == "app.main" and n.names[0].name == "main" for n in imports)


def test_windows_cli_exe_does_not_clash_with_the_app_exe(cb: ModuleType) -> None:
    gui = cb.exe_file_name(cb.EXE_NAME, windows=True)
    cli = cb.exe_file_name(cb.CLI_EXE_NAME, windows=True)
    assert gui == "CareCoord.exe"
    assert cli.lower() != gui.lower()  # Windows file names ignore case


# --- everything read at run time is bundled (needs PyInstaller) ------------------------------


def _files(folder: Path) -> list[Path]:
    return [
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]


@pytest.fixture(scope="module")
def datas(cb: ModuleType) -> list[tuple[str, str]]:
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed")
    datas: list[tuple[str, str]] = cb.datas()
    return datas


@pytest.fixture(scope="module")
def hidden(cb: ModuleType) -> list[str]:
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed")
    names: list[str] = cb.hidden_imports()
    return names


def _sources_by_dest(datas: list[tuple[str, str]]) -> dict[str, Path]:
    return {str(PurePosixPath(dest) / Path(src).name): Path(src).resolve() for src, dest in datas}


@needs_pyinstaller
def test_every_file_under_resources_is_bundled_under_resources(
    datas: list[tuple[str, str]],
) -> None:
    bundled = _sources_by_dest(datas)
    files = _files(ROOT / "resources")
    assert any(p.name == "services.json" for p in files)
    for path in files:
        dest = "resources/" + path.relative_to(ROOT / "resources").as_posix()
        assert bundled.get(dest) == path.resolve(), dest


@needs_pyinstaller
def test_the_pdf_fallback_fonts_and_their_licence_are_bundled(
    datas: list[tuple[str, str]],
) -> None:
    bundled = _sources_by_dest(datas)
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE-DejaVu.txt"):
        assert (
            bundled.get(f"resources/fonts/{name}")
            == (ROOT / "resources" / "fonts" / name).resolve()
        )


@needs_pyinstaller
def test_every_migration_file_is_bundled_where_alembic_looks(
    datas: list[tuple[str, str]],
) -> None:
    bundled = _sources_by_dest(datas)
    migrations = ROOT / "app" / "db" / "migrations"
    for path in _files(migrations):
        dest = "app/db/migrations/" + path.relative_to(migrations).as_posix()
        assert bundled.get(dest) == path.resolve(), dest
    for needed in ("env.py", "script.py.mako", "versions/0001_initial_schema.py"):
        assert f"app/db/migrations/{needed}" in bundled


@needs_pyinstaller
def test_all_keyring_backends_and_their_entry_points_are_bundled(
    hidden: list[str], datas: list[tuple[str, str]]
) -> None:
    import keyring.backends

    backends = {
        f"keyring.backends.{m.name}" for m in pkgutil.iter_modules(keyring.backends.__path__)
    }
    for name in ("Windows", "macOS", "SecretService", "kwallet", "fail"):
        assert f"keyring.backends.{name}" in backends
    assert backends <= set(hidden)
    # keyring finds its backends through its entry points, i.e. its dist-info metadata
    assert any(re.fullmatch(r"keyring-[^/]+\.(dist|egg)-info", dest) for _, dest in datas)


@needs_pyinstaller
def test_app_version_metadata_reportlab_fonts_and_tzdata_are_bundled(
    datas: list[tuple[str, str]],
) -> None:
    dests = {dest for _, dest in datas}
    files = _sources_by_dest(datas)
    assert any(re.fullmatch(r"carecoord[^/]*\.(dist|egg)-info", d) for d in dests)
    assert any(k.startswith("reportlab/fonts/") and k.endswith(".ttf") for k in files)
    assert "tzdata/zoneinfo/Europe/London" in files


def _imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                names.add(
                    sub
                    if importlib.util.find_spec(node.module) and _is_module(sub)
                    else node.module
                )
    return names


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@needs_pyinstaller
def test_modules_imported_by_migration_scripts_are_bundled(hidden: list[str]) -> None:
    """Alembic runs env.py and versions/*.py from files, where PyInstaller cannot see them."""
    scripts = [p for p in _files(ROOT / "app" / "db" / "migrations") if p.suffix == ".py"]
    needed = set().union(*(_imports_of(p) for p in scripts)) - {"__future__"}
    third_party = {n for n in needed if n.split(".")[0] not in sys.stdlib_module_names}
    assert {"alembic.op", "alembic.context", "app.models"} <= third_party
    for name in third_party:
        assert any(h == name or h.startswith(name + ".") for h in hidden), name


@needs_pyinstaller
def test_sqlcipher_is_bundled_when_installed(cb: ModuleType, hidden: list[str]) -> None:
    assert ("sqlcipher3" in hidden) == _is_module("sqlcipher3")


# --- Windows installer ---------------------------------------------------------------------


def test_iss_version_comes_from_pyproject_through_build_py(
    build: ModuleType, tmp_path: Path
) -> None:
    version = _pyproject()["project"]["version"]
    assert build.iss_defines()["AppVersion"] == version

    fake = tmp_path / "repo"
    fake.mkdir()
    (fake / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "9.8.7rc1"\n')
    out = build.write_iss_defines(tmp_path / "version.iss", root=fake)
    text = out.read_text(encoding="utf-8")
    assert '#define AppVersion "9.8.7rc1"' in text
    assert '#define AppFileVersion "9.8.7"' in text

    # The .iss includes exactly the file build.py writes and never hard-codes a version.
    include = re.search(r'#define VersionFile AddBackslash\(SourcePath\) \+ "([^"]+)"', _iss_text())
    assert include is not None
    target = (ISS.parent / PureWindowsPath(include.group(1)).as_posix()).resolve()
    assert target == build.ISS_DEFINES.resolve()
    setup = _iss_setup()
    assert setup["AppVersion"] == "{#AppVersion}"
    assert setup["VersionInfoVersion"] == "{#AppFileVersion}"


def test_iss_installs_the_built_folder_per_user_with_the_app_exe_and_icon(
    build: ModuleType, cb: ModuleType
) -> None:
    setup = _iss_setup()
    exe = cb.exe_file_name(cb.EXE_NAME, windows=True)
    assert build.iss_defines()["AppExeName"] == exe == _iss_fallback_define("AppExeName")
    assert build.iss_defines()["AppName"] == cb.APP_NAME == _iss_fallback_define("AppName")
    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["DefaultDirName"] == r"{localappdata}\Programs\{#AppName}"
    assert setup["UninstallDisplayIcon"] == r"{app}\{#AppExeName}"
    text = _iss_text()
    # the folder PyInstaller's COLLECT writes, and the icon PyInstaller embeds
    assert '#define AppSourceDir RepoRoot + "\\dist\\" + AppName' in text
    assert 'Source: "{#AppSourceDir}\\*"' in text
    icon = re.search(r'#define AppIcon RepoRoot \+ "([^"]+)"', text)
    assert icon is not None
    icon_path = ROOT / PureWindowsPath(icon.group(1).lstrip("\\")).as_posix()
    assert icon_path == cb.ICON_ICO and icon_path.is_file()
    assert setup["SetupIconFile"] == "{#AppIcon}"
    shortcuts = [line for line in text.splitlines() if line.startswith('Name: "{autoprograms}')]
    assert shortcuts and r'Filename: "{app}\{#AppExeName}"' in shortcuts[0]


def test_uninstaller_offers_to_delete_the_same_folder_the_app_stores_data_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import platformdirs
    import platformdirs.windows

    from app.core.paths import default_data_dir

    def fake_win_folder(csidl_name: str) -> str:
        return "LOCALAPPDATA" if csidl_name == "CSIDL_LOCAL_APPDATA" else csidl_name

    monkeypatch.setattr(platformdirs.windows, "get_win_folder", fake_win_folder)
    monkeypatch.setattr(platformdirs, "PlatformDirs", platformdirs.windows.Windows)
    data_dir = default_data_dir()
    assert data_dir.parts[-2:] == ("LOCALAPPDATA", "CareCoord")

    text = _iss_text()
    assert "ExpandConstant('{localappdata}\\{#AppName}')" in text
    # kept by default: deleting needs the unticked box, a confirmation, and a non-silent run
    assert "DeleteBox.Checked := False;" in text
    assert "UninstallSilent()" in text
    assert "MB_DEFBUTTON2" in text
    assert re.search(r"usPostUninstall\) and DeleteUserData", text)


# --- Linux desktop entry and AppStream metadata ----------------------------------------------


def _desktop() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_runs_the_carecoord_command_with_the_app_icon(cb: ModuleType) -> None:
    entry = _desktop()
    command = entry["Exec"].split()[0]
    assert command == "carecoord"
    assert command in _pyproject()["project"]["scripts"]  # same name as a pip install
    # install.sh links that command to the frozen executable
    script = INSTALL_SH.read_text(encoding="utf-8")
    assert f'ln -sfn "$opt_dir/{cb.EXE_NAME}" "$bin_dir/{command}"' in script
    assert entry["Icon"] == cb.BUNDLE_ID
    assert entry["Terminal"] == "false"
    sizes = re.search(r'^sizes="([^"]+)"', script, re.M)
    assert sizes is not None
    for size in sizes.group(1).split():
        assert (cb.ICON_DIR / f"carecoord-{size}.png").is_file()


def test_appstream_metadata_matches_the_desktop_file_and_version(cb: ModuleType) -> None:
    component = ET.parse(METAINFO).getroot()
    assert component.findtext("id") == cb.BUNDLE_ID
    assert component.findtext("launchable") == DESKTOP.name
    assert component.findtext("icon") == _desktop()["Icon"]
    releases = component.findall("releases/release")
    assert releases[0].get("version") == _pyproject()["project"]["version"]


# --- the icon ------------------------------------------------------------------------------


def test_icon_rasters_exist_at_every_size() -> None:
    icons = ROOT / "resources" / "icons"
    ET.parse(icons / "carecoord.svg")  # well-formed source
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        with Image.open(icons / f"carecoord-{size}.png") as im:
            assert im.size == (size, size)
            assert im.mode == "RGBA"
    with Image.open(icons / "carecoord.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= ico.info["sizes"]
    with Image.open(icons / "carecoord.icns") as icns:
        assert (512, 512, 2) in icns.info["sizes"]
