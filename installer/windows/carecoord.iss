; Inno Setup 6 script for CareCoord: a per-user install that needs no administrator rights.
;
; Build dist\CareCoord first with `python installer\build.py`; on Windows that script also runs
; this file through ISCC.exe when Inno Setup 6 is installed. To compile by hand afterwards:
;     "%ProgramFiles(x86)%\Inno Setup 6\ISCC.exe" installer\windows\carecoord.iss
; The output is dist\CareCoord-<version>-setup.exe.
;
; The version and executable names are not written here: build.py writes them, from
; pyproject.toml, to build\installer\version.iss, which is included below. They can also be
; given on the command line (ISCC /DAppVersion=1.2.3 ...).

#ifndef AppVersion
  #define VersionFile AddBackslash(SourcePath) + "..\..\build\installer\version.iss"
  #if FileExists(VersionFile)
    #include VersionFile
  #else
    #error Run "python installer\build.py" first: it builds dist\CareCoord and writes build\installer\version.iss.
  #endif
#endif
#ifndef AppFileVersion
  #define AppFileVersion AppVersion
#endif
#ifndef AppName
  #define AppName "CareCoord"
#endif
#ifndef AppExeName
  #define AppExeName "CareCoord.exe"
#endif
#define AppPublisher "CareCoord"
#define RepoRoot AddBackslash(SourcePath) + "..\.."
#define AppSourceDir RepoRoot + "\dist\" + AppName
#define AppIcon RepoRoot + "\resources\icons\carecoord.ico"

[Setup]
; AppId identifies the product to Windows across versions: never change it.
AppId={{6E0C3A52-8E7B-4C0F-9A55-2C1B7E4D9F31}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
VersionInfoVersion={#AppFileVersion}
VersionInfoProductName={#AppName}
VersionInfoDescription={#AppName} installer
; Per-user install: no administrator rights, nothing outside the user's profile.
PrivilegesRequired=lowest
DefaultDirName={localappdata}\Programs\{#AppName}
DisableDirPage=yes
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SetupIconFile={#AppIcon}
UninstallDisplayIcon={app}\{#AppExeName}
UninstallDisplayName={#AppName}
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
OutputDir={#RepoRoot}\dist
OutputBaseFilename={#AppName}-{#AppVersion}-setup
; Close a running CareCoord (Restart Manager) before files are replaced or removed.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder build. The user's data never lives here (it is in %LOCALAPPDATA%\CareCoord).
Source: "{#AppSourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; Files of an older version that the new one no longer ships.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"; IconFilename: "{app}\{#AppExeName}"; Comment: "Caseloads, 48-hour discharge calls and MDTs"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; IconFilename: "{app}\{#AppExeName}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
{ On uninstall, CareCoord's data folder (the database, its backups, logs and the key file) is
  kept unless the user ticks "Also delete my CareCoord data" and confirms. A silent uninstall
  always keeps it. The folder is platformdirs' user data dir for CareCoord on Windows. }

var
  DeleteUserData: Boolean;

function UserDataDir: String;
begin
  Result := ExpandConstant('{localappdata}\{#AppName}');
end;

function AskDeleteUserData(var DeleteData: Boolean): Boolean;
var
  Form: TSetupForm;
  Info: TNewStaticText;
  DeleteBox: TNewCheckBox;
  OKButton, CancelButton: TNewButton;
begin
#if Ver >= EncodeVer(6, 6, 0)
  Form := CreateCustomForm(440, 190, False, True);
#else
  Form := CreateCustomForm();
  Form.ClientWidth := ScaleX(440);
  Form.ClientHeight := ScaleY(190);
#endif
  try
    Form.Caption := 'Uninstall {#AppName}';

    Info := TNewStaticText.Create(Form);
    Info.Parent := Form;
    Info.Left := ScaleX(12);
    Info.Top := ScaleY(12);
    Info.Width := Form.ClientWidth - ScaleX(24);
    Info.AutoSize := False;
    Info.Height := ScaleY(72);
    Info.WordWrap := True;
    Info.Caption := '{#AppName} will be removed from this computer. Your CareCoord data ' +
      '(patient records, backups and keys) in ' + UserDataDir + ' is kept, so a new ' +
      'installation carries on where you left off.';

    DeleteBox := TNewCheckBox.Create(Form);
    DeleteBox.Parent := Form;
    DeleteBox.Left := ScaleX(12);
    DeleteBox.Top := Info.Top + Info.Height + ScaleY(8);
    DeleteBox.Width := Form.ClientWidth - ScaleX(24);
    DeleteBox.Height := ScaleY(20);
    DeleteBox.Caption := 'Also &delete my CareCoord data from this computer';
    DeleteBox.Checked := False;

    OKButton := TNewButton.Create(Form);
    OKButton.Parent := Form;
    OKButton.Caption := '&Uninstall';
    OKButton.Width := ScaleX(85);
    OKButton.Height := ScaleY(23);
    OKButton.Left := Form.ClientWidth - ScaleX(85 + 8 + 85 + 12);
    OKButton.Top := Form.ClientHeight - ScaleY(23 + 12);
    OKButton.ModalResult := mrOk;
    OKButton.Default := True;

    CancelButton := TNewButton.Create(Form);
    CancelButton.Parent := Form;
    CancelButton.Caption := 'Cancel';
    CancelButton.Width := ScaleX(85);
    CancelButton.Height := ScaleY(23);
    CancelButton.Left := Form.ClientWidth - ScaleX(85 + 12);
    CancelButton.Top := OKButton.Top;
    CancelButton.ModalResult := mrCancel;
    CancelButton.Cancel := True;

    Form.ActiveControl := OKButton;
    Result := Form.ShowModal() = mrOk;
    DeleteData := Result and DeleteBox.Checked;
  finally
    Form.Free();
  end;
end;

function InitializeUninstall(): Boolean;
begin
  DeleteUserData := False;
  if UninstallSilent() then
  begin
    Result := True;
    Exit;
  end;
  Result := AskDeleteUserData(DeleteUserData);
  if Result and DeleteUserData then
    DeleteUserData := MsgBox('Delete all CareCoord data in ' + UserDataDir + '?' + #13#10#13#10 +
      'Changes that have not been exported in a sync bundle are lost for good. ' +
      'This cannot be undone.', mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and DeleteUserData and DirExists(UserDataDir) then
  begin
    if not DelTree(UserDataDir, True, True, True) then
      MsgBox('Some CareCoord data could not be deleted (is CareCoord still open?). ' +
        'You can delete the folder ' + UserDataDir + ' yourself.', mbError, MB_OK);
  end;
end;
