; confab.nsi is Confab's Windows installer, built on Linux with makensis by
; scripts/package-windows.sh (make package-windows), which passes:
;   VERSION   the version as the binaries report it (v0.1.0, 5defc7f, ...)
;   VERSION4  the same as four numbers for the version resource (0.1.0.0)
;   STAGE     the folder holding confab.exe, confab-server.exe, confab.ico and
;             THIRD-PARTY-NOTICES.txt (the licences of what the .exe files contain)
;   OUTFILE   the installer to write (dist/Confab-<version>-setup.exe)
;
; It installs for the current user only, without administrator rights, into
; %LOCALAPPDATA%\Programs\Confab, with a Start menu shortcut and (optional)
; a desktop shortcut. The one part that needs administrator rights is the
; optional "Let others on my network join": a Windows Firewall rule for
; confab.exe, added by one elevated netsh (Windows asks for consent then,
; and only then); the shortcuts then start Confab's built-in server on the
; network (--listen 0.0.0.0:7880) instead of this computer only.
;
; Command line (besides NSIS's own /S silent and /D=dir):
;   /LAN          tick "Let others on my network join" (needs consent: UAC)
;   /NODESKTOP    no desktop shortcut
; The uninstaller asks whether to remove the user's data as well
; (chat history, settings); silently (/S) it keeps them unless given /PURGE.

; A 64-bit installer: confab.exe is 64-bit only, and a 32-bit one would
; need wine's 32-bit half to be checked under wine.
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma
RequestExecutionLevel user

!ifndef VERSION | VERSION4 | STAGE | OUTFILE
  !error "makensis needs -DVERSION=... -DVERSION4=... -DSTAGE=... -DOUTFILE=..."
!endif

!define APPNAME "Confab"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Confab"
!define APPKEY "Software\Confab"
!define FWRULE "Confab"
!define LANARGS "--listen 0.0.0.0:7880"

Name "${APPNAME}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\Confab"
InstallDirRegKey HKCU "${APPKEY}" "InstallDir"
BrandingText "Confab ${VERSION}"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey /LANG=1033 "ProductName" "Confab"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "FileDescription" "Confab installer"
VIAddVersionKey /LANG=1033 "LegalCopyright" "The Confab authors"

!include MUI2.nsh
!include FileFunc.nsh
!include LogicLib.nsh
!include Sections.nsh

Var ShortcutArgs

!define MUI_ICON "${STAGE}\confab.ico"
!define MUI_UNICON "${STAGE}\confab.ico"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN
!define MUI_FINISHPAGE_RUN_TEXT "Start Confab"
!define MUI_FINISHPAGE_RUN_FUNCTION StartConfab

!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!define MUI_COMPONENTSPAGE_TEXT_TOP "Confab will be removed. Tick the second box to remove your chat history and settings as well."
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

Section "Confab (required)" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "${STAGE}\confab.exe"
  File "${STAGE}\confab-server.exe"
  File "${STAGE}\THIRD-PARTY-NOTICES.txt"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  WriteRegStr HKCU "${APPKEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "Confab"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "The Confab authors"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\confab.exe"
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTKEY}" "EstimatedSize" $0
SectionEnd

Section /o "Let others on my network join (asks for administrator consent)" SecLan
  ; The rule admits incoming connections to confab.exe on private and
  ; domain networks (not public ones). Adding it needs administrator
  ; rights, so this one step runs elevated: Windows shows its consent
  ; prompt (UAC) now, and never otherwise.
  DetailPrint 'Adding the Windows Firewall rule "${FWRULE}" (asks for consent)'
  ClearErrors
  ExecShellWait "runas" "$SYSDIR\netsh.exe" 'advfirewall firewall add rule name="${FWRULE}" dir=in action=allow program="$INSTDIR\confab.exe" enable=yes profile=private,domain' SW_HIDE
  ${If} ${Errors}
    DetailPrint "The firewall rule was not added (consent refused or netsh failed)"
    MessageBox MB_OK|MB_ICONEXCLAMATION "The firewall rule was not added, so others on your network may not reach Confab. Run the installer again and tick the box to retry." /SD IDOK
  ${Else}
    WriteRegDWORD HKCU "${APPKEY}" "FirewallRule" 1
  ${EndIf}
  StrCpy $ShortcutArgs "${LANARGS}"
  WriteRegStr HKCU "${APPKEY}" "ShortcutArgs" "$ShortcutArgs"
SectionEnd

Section "Desktop shortcut" SecDesktop
  CreateShortcut "$DESKTOP\Confab.lnk" "$INSTDIR\confab.exe" "$ShortcutArgs" "$INSTDIR\confab.exe" 0
SectionEnd

Section "-Start menu"
  ${IfNot} ${SectionIsSelected} ${SecLan}
    DeleteRegValue HKCU "${APPKEY}" "ShortcutArgs"
  ${EndIf}
  CreateShortcut "$SMPROGRAMS\Confab.lnk" "$INSTDIR\confab.exe" "$ShortcutArgs" "$INSTDIR\confab.exe" 0
SectionEnd

Function .onInit
  StrCpy $ShortcutArgs ""
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/LAN" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${SecLan}
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/NODESKTOP" $R1
  ${IfNot} ${Errors}
    !insertmacro UnselectSection ${SecDesktop}
  ${EndIf}
FunctionEnd

Function StartConfab
  Exec '"$INSTDIR\confab.exe" $ShortcutArgs'
FunctionEnd

; ------------------------------------------------------------ uninstaller

Section "un.Confab (the program, its shortcuts and firewall rule)" SecUnApp
  SectionIn RO
  ; Work from elsewhere: a folder in use (the working directory of this
  ; process or of netsh below) cannot be removed at the end.
  SetOutPath "$TEMP"
  Delete "$INSTDIR\confab.exe"
  Delete "$INSTDIR\confab-server.exe"
  Delete "$INSTDIR\THIRD-PARTY-NOTICES.txt"
  Delete "$SMPROGRAMS\Confab.lnk"
  Delete "$DESKTOP\Confab.lnk"

  ReadRegDWORD $0 HKCU "${APPKEY}" "FirewallRule"
  ${If} $0 = 1
    DetailPrint 'Removing the Windows Firewall rule "${FWRULE}" (asks for consent)'
    ClearErrors
    ExecShellWait "runas" "$SYSDIR\netsh.exe" 'advfirewall firewall delete rule name="${FWRULE}" program="$INSTDIR\confab.exe"' SW_HIDE
    ${If} ${Errors}
      DetailPrint 'The firewall rule "${FWRULE}" is still there (consent refused); remove it in Windows Defender Firewall'
    ${EndIf}
  ${EndIf}

  DeleteRegKey HKCU "${UNINSTKEY}"
  DeleteRegKey HKCU "${APPKEY}"
  Delete "$INSTDIR\uninstall.exe"
  ; Only if empty: anything the user put there stays.
  RMDir "$INSTDIR"
SectionEnd

Section /o "un.My chat history and settings" SecUnData
  ; The built-in server's data and the sign-in (os.UserConfigDir), and the
  ; app's preferences (Fyne keeps them under fyne\<app id>).
  RMDir /r "$APPDATA\confab"
  RMDir /r "$APPDATA\fyne\io.confab.app"
  RMDir "$APPDATA\fyne"
SectionEnd

Function un.onInit
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${SecUnData}
  ${EndIf}
FunctionEnd
