# WCMS agent installer for Windows (PowerShell 5.1 or later), from {{.Base}}
#
# Paste into an administrator PowerShell or command prompt, with a registration PIN from the
# dashboard:
#   powershell -ExecutionPolicy Bypass -Command "& ([scriptblock]::Create((iwr -UseBasicParsing {{.Base}}/install/install.ps1).Content)) -Pin 123456"
# Without -Pin it asks for one.
#
# It downloads the newest agent for this machine, checks its SHA-256, stops and removes an
# agent service already installed, installs the agent as a service and registers it.
param([string]$Pin)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue' # the progress bar makes Invoke-WebRequest crawl in 5.1
$Server = '{{.Base}}'

function Fail([string]$Message) {
    [Console]::Error.WriteLine("wcms-agent install: $Message")
    exit 1
}

# Runs the installed agent with errors ignored: it may be half installed or not a service.
function Invoke-Quietly([string]$Exe, [string]$Verb) {
    $ErrorActionPreference = 'Continue'
    & $Exe $Verb *> $null
}

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Fail 'run this as administrator: right-click PowerShell, "Run as administrator"'
}

if (-not $Pin) { $Pin = Read-Host 'Registration PIN (6 digits)' }
if ($Pin -notmatch '^[0-9]{6}$') { Fail 'the PIN must be 6 digits' }

# A 32-bit PowerShell on 64-bit Windows names the machine's architecture in PROCESSOR_ARCHITEW6432.
$machine = if ($env:PROCESSOR_ARCHITEW6432) { $env:PROCESSOR_ARCHITEW6432 } else { $env:PROCESSOR_ARCHITECTURE }
switch ($machine) {
    'AMD64' { $arch = 'amd64' }
    'ARM64' { $arch = 'arm64' }
    'x86' { $arch = '386' }
    default { Fail "no agent build for processor $machine" }
}

# Windows PowerShell 5.1 offers only TLS 1.0 unless told otherwise.
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12

$url = "$Server/download/wcms-agent-windows-$arch.exe"
$tmp = Join-Path $env:TEMP ('wcms-agent-' + [guid]::NewGuid() + '.exe')
Write-Host "Downloading $url"
try {
    $res = Invoke-WebRequest -UseBasicParsing -Uri $url -OutFile $tmp -PassThru
} catch {
    Fail "download failed: $url ($($_.Exception.Message))"
}
$want = "$($res.Headers['X-Checksum-SHA256'])".Trim().ToLowerInvariant()
if ($want -notmatch '^[0-9a-f]{64}$') {
    Remove-Item -LiteralPath $tmp -Force
    Fail 'the server sent no X-Checksum-SHA256 header'
}
$got = (Get-FileHash -Algorithm SHA256 -LiteralPath $tmp).Hash.ToLowerInvariant()
if ($got -ne $want) {
    Remove-Item -LiteralPath $tmp -Force
    Fail "checksum mismatch: the download hashes to $got, the server says $want"
}

$dir = Join-Path $env:ProgramFiles 'WCMS'
$exe = Join-Path $dir 'wcms-agent.exe'
if (Test-Path -LiteralPath $exe) {
    Write-Host 'Removing the installed agent service'
    Invoke-Quietly $exe 'stop'
    Invoke-Quietly $exe 'uninstall'
    # A running program cannot be replaced, but it can be renamed.
    Remove-Item -LiteralPath "$exe.old" -Force -ErrorAction SilentlyContinue
    Move-Item -LiteralPath $exe -Destination "$exe.old" -Force
}
New-Item -ItemType Directory -Force -Path $dir | Out-Null
Move-Item -LiteralPath $tmp -Destination $exe -Force
Remove-Item -LiteralPath "$exe.old" -Force -ErrorAction SilentlyContinue

Write-Host "Installing $exe as a service for $Server"
& $exe install -server $Server -pin $Pin
exit $LASTEXITCODE
