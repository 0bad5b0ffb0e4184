#!/usr/bin/env bash
# The NuGet package, checked as a user meets it: pack src/TinyGrad into a temporary local feed, check what the
# package carries (readme, license, XML docs, symbols package), then create a fresh console project outside the
# repository that references TinyGrad from that feed, build it, run it and check its output.
# Sources: the local feed for TinyGrad (and nothing else), this machine's own NuGet sources for its dependencies.
# Packages restore into a temporary folder, so a stale TinyGrad of the same version in ~/.nuget/packages is never used.
# Usage: scripts/package-check.sh   (from anywhere; .ci/run calls it; about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tinygrad-package-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package-check: FAIL: $*" >&2; exit 1; }

echo "== pack"
dotnet pack src/TinyGrad/TinyGrad.csproj -c Release -o "$tmp/feed" --nologo -v quiet
nupkg=$(find "$tmp/feed" -maxdepth 1 -name 'TinyGrad.*.nupkg' ! -name '*.snupkg' -print -quit)
[ -n "$nupkg" ] || fail "dotnet pack wrote no TinyGrad .nupkg into $tmp/feed"
version=$(basename "$nupkg" .nupkg); version=${version#TinyGrad.}
snupkg="$tmp/feed/TinyGrad.$version.snupkg"
echo "package: $(basename "$nupkg") ($(stat -c %s "$nupkg") bytes), symbols: $(basename "$snupkg")"
[ -f "$snupkg" ] || fail "no symbols package $snupkg"

echo "== contents"
listing=$(unzip -l "$nupkg")
for entry in README.md LICENSE lib/net10.0/TinyGrad.dll lib/net10.0/TinyGrad.xml TinyGrad.nuspec; do
  grep -q " $entry\$" <<<"$listing" || fail "$entry missing from $(basename "$nupkg"):"$'\n'"$listing"
  echo "ok: $entry"
done
# The listing goes into a variable first: under pipefail, `unzip -l | grep -q` fails at random, since grep -q exits at
# its first match and unzip, still writing the listing's last lines, then dies of SIGPIPE (exit 141). CI failed so.
symbols=$(unzip -l "$snupkg")
grep -q ' lib/net10.0/TinyGrad.pdb$' <<<"$symbols" || fail "TinyGrad.pdb missing from $(basename "$snupkg"):"$'\n'"$symbols"
echo "ok: lib/net10.0/TinyGrad.pdb (in the .snupkg)"
nuspec=$(unzip -p "$nupkg" TinyGrad.nuspec)
for needle in "<version>$version</version>" '<license type="expression">MIT</license>' '<readme>README.md</readme>' \
              '<dependency id="System.Numerics.Tensors"' '<dependency id="CommunityToolkit.HighPerformance"'; do
  grep -qF "$needle" <<<"$nuspec" || fail "the nuspec lacks $needle:"$'\n'"$nuspec"
done
echo "ok: nuspec (version $version, license MIT, readme, dependencies)"
docs=$(unzip -p "$nupkg" lib/net10.0/TinyGrad.xml | grep -c '<member name=' || true)
[ "$docs" -gt 100 ] || fail "TinyGrad.xml documents only $docs members"
echo "ok: XML docs for $docs members"

echo "== a fresh console project that uses the package"
app="$tmp/app"
mkdir -p "$app"
# The machine's enabled sources ("E <url>" lines) serve everything but TinyGrad, which only the local feed may.
mapfile -t sources < <(cd "$tmp" && dotnet nuget list source --format short | sed -n 's/^E[A-Za-z]* \(.*\)$/\1/p')
[ "${#sources[@]}" -gt 0 ] || fail "this machine has no enabled NuGet source for the dependencies"
{
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo '<configuration>'
  echo '  <packageSources>'
  echo '    <clear />'
  echo "    <add key=\"tinygrad-local\" value=\"$tmp/feed\" />"
  for i in "${!sources[@]}"; do echo "    <add key=\"machine-$i\" value=\"${sources[$i]}\" />"; done
  echo '  </packageSources>'
  echo '  <packageSourceMapping>'
  echo '    <packageSource key="tinygrad-local"><package pattern="TinyGrad" /></packageSource>'
  for i in "${!sources[@]}"; do echo "    <packageSource key=\"machine-$i\"><package pattern=\"*\" /></packageSource>"; done
  echo '  </packageSourceMapping>'
  echo '</configuration>'
} >"$app/nuget.config"
cat >"$app/app.csproj" <<CSPROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="TinyGrad" Version="$version" />
  </ItemGroup>
</Project>
CSPROJ
# The program of the package README: an MLP learns XOR with Adam, then one row of sigsoftmax.
cat >"$app/Program.cs" <<'CS'
using TinyGrad;
using TinyGrad.Optim;

var rng = new Generator(seed: 1);
var x = Tensor.FromArray([0, 0, 0, 1, 1, 0, 1, 1], 4, 2);
int[] y = [0, 1, 1, 0];
var w1 = Tensor.Randn([2, 8], rng).Detach().RequireGrad();
var b1 = Tensor.Zeros([8], null).RequireGrad();
var w2 = Tensor.Randn([8, 2], rng).Mul(0.5f).Detach().RequireGrad();
var b2 = Tensor.Zeros([2], null).RequireGrad();
var opt = new Adam([w1, b1, w2, b2], lr: 0.05f);

float last = float.NaN;
for (int step = 1; step <= 300; step++)
{
    var logits = (x.MatMul(w1) + b1).Tanh().MatMul(w2) + b2;
    var loss = Tensor.CrossEntropy(logits, y);
    opt.ZeroGrad();
    loss.Backward();
    opt.Step();
    last = loss.Item();
    if (step % 100 == 0) Console.WriteLine($"step {step}: loss {last:F4}");
}
using (Autograd.NoGrad())
{
    var p = ((x.MatMul(w1) + b1).Tanh().MatMul(w2) + b2).Softmax().ToArray();
    Console.WriteLine("xor " + string.Join(" ", Enumerable.Range(0, 4).Select(i => p[2 * i + 1] > 0.5f ? 1 : 0)));
}
var s = Tensor.FromArray([-2f, 0f, 2f], 1, 3).Sigsoftmax().ToArray();
Console.WriteLine("sigsoftmax " + string.Join(" ", s.Select(v => v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture))));
CS

(cd "$app" && dotnet restore --packages "$tmp/packages" --nologo -v quiet) || fail "restore of the fresh project failed"
restored="$tmp/packages/tinygrad/$version/tinygrad.$version.nupkg"
cmp -s "$restored" "$nupkg" || fail "the restored TinyGrad $version is not the package just packed"
echo "ok: TinyGrad $version restored from the local feed (byte-identical)"
(cd "$app" && dotnet build -c Release --no-restore --nologo -v quiet) || fail "build of the fresh project failed"
out=$(cd "$app" && dotnet run -c Release --no-build) || fail "the fresh project exited with an error:"$'\n'"$out"
echo "$out"

echo "== output"
loss=$(sed -n 's/^step 300: loss \([0-9.]*\)$/\1/p' <<<"$out")
[ -n "$loss" ] || fail "no 'step 300: loss' line"
awk -v l="$loss" 'BEGIN { exit !(l < 0.05) }' || fail "XOR loss after 300 steps is $loss, expected < 0.05"
grep -qx 'xor 0 1 1 0' <<<"$out" || fail "the trained MLP does not compute XOR"
# The first row of docs/tour.md's rank example: sigsoftmax([−2, 0, 2]) = (0.0023, 0.0712, 0.9265).
grep -qx 'sigsoftmax 0.0023 0.0712 0.9265' <<<"$out" || fail "sigsoftmax([-2, 0, 2]) is not 0.0023 0.0712 0.9265"
echo "package-check: OK (TinyGrad $version: packed, inspected, restored from a local feed, built and run; XOR loss $loss)"
