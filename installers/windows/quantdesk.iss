; Inno Setup script for Windows: a per-user install (no administrator rights), a Start-menu entry,
; and an uninstaller that keeps the person's models and chats unless they tick a box.
;
;   iscc /DVersion=0.1.0 /DBundleDir=..\..\dist\quantdesk installers\windows\quantdesk.iss
;
; BundleDir is PyInstaller's onedir output (installers/quantdesk.spec on Windows: quantdesk.exe,
; windowed, and quantdesk-cli.exe for the command line). Built by .github/workflows/release.yml on
; a Windows runner; ISCC.exe runs only on Windows, so this script was not compiled on the Linux
; machine it was written on.

#ifndef Version
  #define Version "0.0.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\quantdesk"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
AppId={{6C1E3B55-2F4A-4C1D-9B7E-51D0A4E2C9F1}
AppName=Quantdesk
AppVersion={#Version}
AppPublisher=The Quantdesk developers
DefaultDirName={autopf}\Quantdesk
DefaultGroupName=Quantdesk
DisableProgramGroupPage=yes
; Per user: {autopf} becomes %LOCALAPPDATA%\Programs, no UAC prompt.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=quantdesk-{#Version}-windows-x86_64-setup
SetupIconFile=..\..\build\icons\quantdesk.ico
UninstallDisplayIcon={app}\quantdesk.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Quantdesk"; Filename: "{app}\quantdesk.exe"
Name: "{autodesktop}\Quantdesk"; Filename: "{app}\quantdesk.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\quantdesk.exe"; Description: "{cm:LaunchProgram,Quantdesk}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; PyInstaller's bytecode caches and anything the app wrote beside itself.
Type: filesandordirs; Name: "{app}\_internal"

[Code]
{ Models and chats live in %LOCALAPPDATA%\Quantdesk (platformdirs, app/core/paths.py), apart
  from the program. They are kept unless the box is ticked. A models folder moved elsewhere in
  Settings is never deleted by the uninstaller. }
var
  DeleteUserData: Boolean;

function AskToDeleteUserData(): Boolean;
var
  Form: TSetupForm;
  Note: TNewStaticText;
  Box: TNewCheckBox;
  OkButton: TNewButton;
begin
  Form := CreateCustomForm(ScaleX(420), ScaleY(150), False, True);
  try
    Form.Caption := 'Uninstall Quantdesk';
    Note := TNewStaticText.Create(Form);
    Note.Parent := Form;
    Note.Left := ScaleX(12); Note.Top := ScaleY(12); Note.Width := Form.ClientWidth - ScaleX(24);
    Note.WordWrap := True;
    Note.Caption := 'Your downloaded models and chats are kept, so a later install finds them.';
    Box := TNewCheckBox.Create(Form);
    Box.Parent := Form;
    Box.Left := ScaleX(12); Box.Top := ScaleY(56); Box.Width := Form.ClientWidth - ScaleX(24);
    Box.Caption := 'Also delete my models and chats (' + ExpandConstant('{localappdata}') + '\Quantdesk)';
    Box.Checked := False;
    OkButton := TNewButton.Create(Form);
    OkButton.Parent := Form;
    OkButton.Caption := 'Continue';
    OkButton.ModalResult := mrOk;
    OkButton.Left := Form.ClientWidth - ScaleX(100); OkButton.Top := ScaleY(100);
    OkButton.Width := ScaleX(88); OkButton.Height := ScaleY(26);
    Form.ActiveControl := OkButton;
    Result := (Form.ShowModal() = mrOk) and Box.Checked;
  finally
    Form.Free();
  end;
end;

function InitializeUninstall(): Boolean;
begin
  DeleteUserData := False;
  if not UninstallSilent() then
    DeleteUserData := AskToDeleteUserData();
  Result := True;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and DeleteUserData then
    DelTree(ExpandConstant('{localappdata}\Quantdesk'), True, True, True);
end;
