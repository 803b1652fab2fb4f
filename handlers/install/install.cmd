@echo off
rem WCMS agent installer for Windows (cmd.exe), from {{.Base}}
rem
rem Paste into an administrator command prompt, with a registration PIN from the dashboard:
rem   curl.exe -fsSLo "%TEMP%\wcms-install.cmd" {{.Base}}/install/install.cmd && "%TEMP%\wcms-install.cmd" 123456
rem Without the PIN it asks for one. Needs curl.exe and certutil (Windows 10 1803 and later).
rem
rem It downloads the newest agent for this machine, checks its SHA-256, stops and removes an
rem agent service already installed, installs the agent as a service and registers it.
setlocal EnableExtensions EnableDelayedExpansion
set "SERVER={{.Base}}"

rem Only an administrator may list the server's sessions.
net session >nul 2>&1
if errorlevel 1 (
    echo wcms-agent install: run this as administrator: right-click Command Prompt, "Run as administrator" 1>&2
    exit /b 1
)

set "PIN=%~1"
if not defined PIN set /p "PIN=Registration PIN (6 digits): "
rem Delayed expansion keeps whatever was typed from being read as commands.
if not defined PIN goto badpin
for /f "delims=0123456789" %%A in ("!PIN!") do goto badpin
if "!PIN:~5,1!"=="" goto badpin
if not "!PIN:~6!"=="" goto badpin

rem A 32-bit cmd on 64-bit Windows names the machine's architecture in PROCESSOR_ARCHITEW6432.
set "MACHINE=%PROCESSOR_ARCHITECTURE%"
if defined PROCESSOR_ARCHITEW6432 set "MACHINE=%PROCESSOR_ARCHITEW6432%"
set "ARCH="
if /i "%MACHINE%"=="AMD64" set "ARCH=amd64"
if /i "%MACHINE%"=="ARM64" set "ARCH=arm64"
if /i "%MACHINE%"=="x86" set "ARCH=386"
if not defined ARCH (
    echo wcms-agent install: no agent build for processor %MACHINE% 1>&2
    exit /b 1
)

set "WORK=%TEMP%\wcms-install-%RANDOM%%RANDOM%"
mkdir "%WORK%" || exit /b 1
set "URL=%SERVER%/download/wcms-agent-windows-%ARCH%.exe"
echo Downloading %URL%
curl.exe -fsS -D "%WORK%\headers.txt" -o "%WORK%\wcms-agent.exe" "%URL%"
if errorlevel 1 (
    set "MSG=download failed: %URL%"
    goto fail
)

rem The last X-Checksum-SHA256 header (after any redirect).
set "WANT="
for /f "tokens=1,* delims=: " %%A in ('findstr /i /b /c:"X-Checksum-SHA256:" "%WORK%\headers.txt"') do set "WANT=%%B"
if not defined WANT (
    set "MSG=the server sent no X-Checksum-SHA256 header"
    goto fail
)
set "WANT=!WANT:~0,64!"
rem certutil prints a title line, the hash (with spaces between bytes on older Windows), a status line.
set "GOT="
for /f "skip=1 delims=" %%H in ('certutil -hashfile "%WORK%\wcms-agent.exe" SHA256') do if not defined GOT set "GOT=%%H"
set "GOT=!GOT: =!"
if /i not "!GOT!"=="!WANT!" (
    set "MSG=checksum mismatch: the download hashes to !GOT!, the server says !WANT!"
    goto fail
)

set "DIR=%ProgramFiles%\WCMS"
set "EXE=%DIR%\wcms-agent.exe"
if exist "%EXE%" (
    echo Removing the installed agent service
    "%EXE%" stop >nul 2>&1
    "%EXE%" uninstall >nul 2>&1
    rem A running program cannot be replaced, but it can be renamed.
    del /f /q "%EXE%.old" >nul 2>&1
    move /y "%EXE%" "%EXE%.old" >nul
)
if not exist "%DIR%" mkdir "%DIR%"
move /y "%WORK%\wcms-agent.exe" "%EXE%" >nul
if errorlevel 1 (
    set "MSG=cannot put the agent in %DIR%"
    goto fail
)
del /f /q "%EXE%.old" >nul 2>&1
rmdir /s /q "%WORK%"

echo Installing %EXE% as a service for %SERVER%
"%EXE%" install -server "%SERVER%" -pin "!PIN!"
exit /b %errorlevel%

:badpin
echo wcms-agent install: the PIN must be 6 digits 1>&2
exit /b 1

:fail
echo wcms-agent install: !MSG! 1>&2
rmdir /s /q "%WORK%" >nul 2>&1
exit /b 1
