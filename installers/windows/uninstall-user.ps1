#Requires -Version 5.1
<#
.SYNOPSIS
  Removes what install-user.ps1 wrote for the current user, and nothing else.
.DESCRIPTION
  Reads %LOCALAPPDATA%\Paraphe\installed-files.txt: deletes the registry keys it lists (the
  HKCU keys of manifests/locations.tsv under Software\Google\Chrome\NativeMessagingHosts,
  Software\Microsoft\Edge\NativeMessagingHosts, Software\Chromium\NativeMessagingHosts,
  Software\Mozilla\NativeMessagingHosts, Software\Mozilla\PKCS11Modules, and any parent key
  it created, when empty), the files, then the folders it created, when empty.
.PARAMETER Quiet
  Print only warnings.
#>
param([switch]$Quiet)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$Dir = Join-Path $env:LOCALAPPDATA 'Paraphe'
$Record = Join-Path $Dir 'installed-files.txt'
if (-not (Test-Path -LiteralPath $Record)) {
  Write-Host "Nothing to remove: $Record not found"
  exit 0
}
function Say([string]$Text) { if (-not $Quiet) { Write-Host $Text } }

$entries = @(Get-Content -LiteralPath $Record -Encoding UTF8 | Where-Object { $_ -match "`t" } | ForEach-Object {
  $kind, $path = $_ -split "`t", 2
  [pscustomobject]@{ Kind = $kind; Path = $path }
})
# Registry keys, deepest first (a key sorts before its subkeys); a parent key is deleted only
# when nothing else is left in it.
foreach ($e in @($entries | Where-Object { $_.Kind -eq 'key' } | Sort-Object Path -Descending -Unique)) {
  if (-not (Test-Path -LiteralPath $e.Path)) { continue }
  $item = Get-Item -LiteralPath $e.Path
  $ours = $e.Path -match '\\(fr\.paraphe\.host|fr\.paraphe\.pkcs11\.[a-z0-9_]+)$'
  if ($ours -or ($item.SubKeyCount -eq 0 -and $item.ValueCount -eq 0)) {
    Remove-Item -LiteralPath $e.Path -Recurse:$ours -Force
    Say "removed $($e.Path)"
  }
}
foreach ($e in @($entries | Where-Object { $_.Kind -eq 'file' })) {
  if (Test-Path -LiteralPath $e.Path -PathType Leaf) {
    Remove-Item -LiteralPath $e.Path -Force
    Say "removed $($e.Path)"
  }
}
Remove-Item -LiteralPath $Record -Force
foreach ($e in @($entries | Where-Object { $_.Kind -eq 'dir' } | Sort-Object Path -Descending -Unique)) {
  if ((Test-Path -LiteralPath $e.Path -PathType Container) -and -not (Get-ChildItem -LiteralPath $e.Path -Force)) {
    Remove-Item -LiteralPath $e.Path -Force
    Say "removed $($e.Path)"
  }
}
Say 'Uninstalled'
