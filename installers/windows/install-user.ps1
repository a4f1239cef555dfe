#Requires -Version 5.1
<#
.SYNOPSIS
  Paraphe for the current Windows user, without administrator rights.
.DESCRIPTION
  Copies paraphe-host.exe to %LOCALAPPDATA%\Paraphe, writes the host manifests there (from the
  templates in manifests\, with the path "paraphe-host.exe", relative to the manifest) and
  registers them under HKCU for Google Chrome (also read by Brave and Vivaldi), Microsoft
  Edge, Chromium and Firefox: the keys of manifests/locations.tsv (windows, user). Also
  registers a Firefox PKCS#11 module manifest (HKCU\Software\Mozilla\PKCS11Modules) for each
  smart-card middleware the host knows and finds installed.
  Every file, folder and registry key it creates is recorded in
  %LOCALAPPDATA%\Paraphe\installed-files.txt; uninstall-user.ps1 (copied there) removes
  exactly those. Running it again replaces the previous installation.
.PARAMETER HostExe
  The paraphe-host.exe to install (default: beside this script).
.PARAMETER NoPkcs11
  Do not register Firefox PKCS#11 modules.
.EXAMPLE
  powershell -ExecutionPolicy Bypass -File install-user.ps1
#>
param(
  [string]$HostExe = (Join-Path $PSScriptRoot 'paraphe-host.exe'),
  [switch]$NoPkcs11
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$Name = 'fr.paraphe.host'
$Dir = Join-Path $env:LOCALAPPDATA 'Paraphe'
$Record = Join-Path $Dir 'installed-files.txt'
$Templates = Join-Path $PSScriptRoot 'manifests'
$Utf8 = New-Object System.Text.UTF8Encoding $false

if (-not (Test-Path -LiteralPath $HostExe -PathType Leaf)) { throw "paraphe-host.exe not found: $HostExe (use -HostExe)" }
if (-not (Test-Path -LiteralPath $Templates -PathType Container)) { throw "manifest templates not found: $Templates" }
if (Test-Path -LiteralPath $Record) {
  Write-Host 'Replacing the previous installation'
  & (Join-Path $PSScriptRoot 'uninstall-user.ps1') -Quiet
}

# --- recording: "dir<TAB>path", "file<TAB>path", "key<TAB>path", appended as they happen ----
function Add-Record([string]$Kind, [string]$Path) {
  [System.IO.File]::AppendAllText($Record, "$Kind`t$Path`r`n", $Utf8)
}
function New-RecordedFolder([string]$Path) {
  if (Test-Path -LiteralPath $Path -PathType Container) { return }
  New-RecordedFolder (Split-Path -Parent $Path)
  New-Item -ItemType Directory -Path $Path | Out-Null
  Add-Record 'dir' $Path
}
function New-RecordedKey([string]$Path) {
  if (Test-Path -LiteralPath $Path) { return }
  New-RecordedKey (Split-Path -Parent $Path)
  New-Item -Path $Path | Out-Null
  Add-Record 'key' $Path
}
function Write-RecordedFile([string]$Path, [string]$Text) {
  [System.IO.File]::WriteAllText($Path, $Text, $Utf8)
  Add-Record 'file' $Path
}
# A string as it goes between JSON quotes.
function ConvertTo-JsonText([string]$Text) {
  $json = ConvertTo-Json -InputObject $Text -Compress
  return $json.Substring(1, $json.Length - 2)
}

# The record's own folder first (it cannot record itself before it exists).
$created = -not (Test-Path -LiteralPath $Dir)
New-Item -ItemType Directory -Force -Path $Dir | Out-Null
if ($created) { Add-Record 'dir' $Dir }

# --- host, uninstaller, manifests -----------------------------------------------------------
$hostPath = Join-Path $Dir 'paraphe-host.exe'
Copy-Item -LiteralPath $HostExe -Destination $hostPath -Force
Add-Record 'file' $hostPath
Copy-Item -LiteralPath (Join-Path $PSScriptRoot 'uninstall-user.ps1') -Destination (Join-Path $Dir 'uninstall-user.ps1') -Force
Add-Record 'file' (Join-Path $Dir 'uninstall-user.ps1')

$manifests = @{}
foreach ($family in 'chromium', 'firefox') {
  $template = [System.IO.File]::ReadAllText((Join-Path $Templates "$Name.$family.json.in"), $Utf8)
  $file = Join-Path $Dir "$Name.$family.json"
  Write-RecordedFile $file $template.Replace('@HOST_PATH@', 'paraphe-host.exe')
  $manifests[$family] = $file
}

# manifests/locations.tsv, windows user rows (installers/test.sh checks they are all here).
$registrations = @(
  @{ Key = 'HKCU:\Software\Google\Chrome\NativeMessagingHosts'; Family = 'chromium' },
  @{ Key = 'HKCU:\Software\Microsoft\Edge\NativeMessagingHosts'; Family = 'chromium' },
  @{ Key = 'HKCU:\Software\Chromium\NativeMessagingHosts'; Family = 'chromium' },
  @{ Key = 'HKCU:\Software\Mozilla\NativeMessagingHosts'; Family = 'firefox' }
)
foreach ($r in $registrations) {
  $key = Join-Path $r.Key $Name
  New-RecordedKey $key
  Set-Item -LiteralPath $key -Value $manifests[$r.Family]
  Add-Record 'key' $key
  Write-Host "registered $key"
}

# --- Firefox PKCS#11 modules: the middleware the host knows and finds installed -------------
# A failure here leaves the host installed and registered; it only costs Firefox's modules.
if (-not $NoPkcs11) {
  try {
    $config = Join-Path $env:TEMP "paraphe-$PID.json"
    [System.IO.File]::WriteAllText($config, '{"builtinModules": false}', $Utf8)
    $saved = $env:PARAPHE_CONFIG
    try {
      $env:PARAPHE_CONFIG = $config
      $diagnose = & $hostPath diagnose --json | Out-String | ConvertFrom-Json
    } finally {
      $env:PARAPHE_CONFIG = $saved
      Remove-Item -LiteralPath $config -Force -ErrorAction SilentlyContinue
    }
    $template = [System.IO.File]::ReadAllText((Join-Path $Templates 'fr.paraphe.pkcs11.firefox.json.in'), $Utf8)
    $seen = @{}
    foreach ($m in @($diagnose.knownMiddleware | Where-Object { $_.installed })) {
      if ($seen.ContainsKey($m.name)) { continue }
      $seen[$m.name] = $true
      # The name rule of manifests/generate.sh (pkcs11-name): file name without extension, lower
      # case, every run of characters other than [a-z0-9] replaced by "_".
      $slug = ([System.IO.Path]::GetFileNameWithoutExtension($m.path).ToLowerInvariant() -replace '[^a-z0-9]+', '_').Trim('_')
      $moduleName = "fr.paraphe.pkcs11.$slug"
      New-RecordedFolder (Join-Path $Dir 'pkcs11')
      $file = Join-Path (Join-Path $Dir 'pkcs11') "$moduleName.json"
      $text = $template.Replace('@NAME@', $moduleName).Replace('@DESCRIPTION@', (ConvertTo-JsonText $m.name)).Replace('@MODULE_PATH@', (ConvertTo-JsonText $m.path))
      Write-RecordedFile $file $text
      $key = Join-Path 'HKCU:\Software\Mozilla\PKCS11Modules' $moduleName
      New-RecordedKey $key
      Set-Item -LiteralPath $key -Value $file
      Add-Record 'key' $key
      Write-Host "registered $($m.name) for Firefox ($key)"
    }
  } catch {
    Write-Warning "Firefox PKCS#11 modules not registered: $_"
  }
}
Write-Host "Installed. To remove: powershell -ExecutionPolicy Bypass -File `"$(Join-Path $Dir 'uninstall-user.ps1')`""
