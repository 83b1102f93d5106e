using System.Net;
using System.Text.RegularExpressions;
using EdgeCollector.Host.Tests.Process;
using EdgeCollector.Modbus;
using EdgeCollector.Scales;
using EdgeCollector.Sim.Modbus;
using EdgeCollector.Sim.Scales;
using Microsoft.Playwright;

namespace EdgeCollector.Host.Tests.Dashboard;

/// <summary>
/// The dashboard in headless Chromium (Debian's, driven by Playwright) against a live collector
/// reading a simulated power meter and a charge and a tap scale: figures appear, a material picked
/// on the page reaches the next ticket, voiding a ticket on the page changes the heat's melt loss,
/// the language toggle works, and the data needs the token.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-dash-").FullName;
    private readonly ScaleTcpConverter _charge = new();
    private readonly ScaleTcpConverter _tap = new();
    private ModbusTcpSlave? _slave;
    private CollectorProcess? _collector;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        var units = new ModbusUnitMap();
        var meter = new SchneiderPm5xxxMeter(1);
        meter.AttachTo(units);
        meter.SetEnergyKWh(100);
        _slave = new ModbusTcpSlave(units, new IPEndPoint(IPAddress.Loopback, 0)).Start();
        string config = Path.Combine(_dir, "plant.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Site": { "Id": "t", "Name": "test", "TimeZone": "UTC", "ShiftStarts": ["00:00"] },
              "Sources": [
                { "Name": "meters", "Type": "ModbusTcp", "Host": "127.0.0.1", "Port": {{_slave.LocalEndPoint.Port}}, "PollMs": 200, "TimeoutMs": 500,
                  "Tags": [ { "Tag": "F1.PowerTotal", "UnitId": 1, "Area": "Holding", "Address": 3203, "DataType": "Int64", "Scale": 0.001, "Unit": "kWh" } ] },
                { "Name": "F1-charge", "Type": "Scale", "Tcp": "{{_charge.HostPort}}", "Protocol": "Toledo-Continuous", "StableBandKg": 2, "StableSeconds": 0.3, "ZeroBandKg": 5 },
                { "Name": "F1-tap", "Type": "Scale", "Tcp": "{{_tap.HostPort}}", "Protocol": "Toledo-Continuous", "StableBandKg": 2, "StableSeconds": 0.3, "ZeroBandKg": 5 }
              ],
              "Furnaces": [ { "Id": "F1", "Meters": [ { "Tag": "F1.PowerTotal", "Kind": "Electricity" } ],
                              "Scales": [ { "Source": "F1-charge", "Role": "Charge" }, { "Source": "F1-tap", "Role": "Tap" } ], "DefaultMaterial": "PostConsumerOther" } ],
              "Factors": { "Set": "t", "Electricity": { "GridTCO2PerMWh": 0.5366, "Source": "MEE" },
                           "MaterialYield": { "Primary": 0.99, "PreConsumer": 0.97, "PostConsumerUbc": 0.90, "PostConsumerOther": 0.92 }, "MaterialYieldSource": "test" },
              "Targets": { "IntensityTCO2ePerT": { "2026": 0.77 }, "Source": "ASI" },
              "Storage": { "DataDir": "data" }
            }
            """);
        _collector = CollectorProcess.Start(_dir, new Dictionary<string, string> { ["DASH_TOKEN"] = "t0k3n" },
            "run", "--config", config, "--set", "Dashboard:TokenEnv=DASH_TOKEN");
        _playwright = await Playwright.CreateAsync();
        Assert.True(File.Exists("/usr/bin/chromium"), "chromium is not installed (apt-get install chromium)");
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    [Fact]
    public async Task Operators_pick_materials_and_void_tickets_on_the_page_and_see_the_melt_loss_change()
    {
        string url = await ListeningUrlAsync();
        var page = await _browser!.NewPageAsync();
        await page.GotoAsync(url + "/?token=t0k3n&lang=en");
        await Expect(page, "section.furnace[data-furnace=F1]");
        Assert.Equal("Melt yield & carbon intensity", await page.TextContentAsync("[data-t=title]"));

        // Without the token the data is refused (the page itself carries none).
        int status = await page.EvaluateAsync<int>("async () => (await fetch('/api/overview')).status");
        Assert.Equal(401, status);

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var toledo = new ScaleSimulator(ScaleProtocols.Create("Toledo-Continuous"), new ScaleSimulatorOptions { FrameRateHz = 20 });
        await _charge.RunAsync(toledo, ScaleScenario.Loads([8000m]), [], ScaleDropMode.Graceful, TimeSpan.FromSeconds(20), cts.Token);
        await WaitForAsync(page, "tr.ticket", 1);
        Assert.Contains("PostConsumerOther", await page.TextContentAsync("tr.ticket"));
        Assert.Equal("8.00", (await page.TextContentAsync("section[data-furnace=F1] .charged"))?.Trim());

        // Pick a material on the page: the next charges take it.
        await page.FillAsync("#by", "alice");
        await page.DispatchEventAsync("#by", "change");
        await page.SelectOptionAsync("section[data-furnace=F1] select.material", "PostConsumerUbc");
        await page.ClickAsync("section[data-furnace=F1] button.set-material");
        await WaitUntilAsync(async () => (await File.ReadAllTextAsync(Path.Combine(_dir, "data", "operator-actions.jsonl"))).Contains("PostConsumerUbc", StringComparison.Ordinal));
        await Task.Delay(1500);   // applied within a second
        await _charge.RunAsync(toledo, ScaleScenario.Loads([9000m, 500m]), [], ScaleDropMode.Graceful, TimeSpan.FromSeconds(20), cts.Token);
        await WaitForAsync(page, "tr.ticket", 3);
        var rows = await page.Locator("tr.ticket").AllTextContentsAsync();
        Assert.Contains(rows, r => r.Contains("9,000", StringComparison.Ordinal) && r.Contains("PostConsumerUbc", StringComparison.Ordinal));

        // Tap, then the next charge closes heat 1: it appears with its melt loss, 100 × (1 − 16000 / 17500).
        await _tap.RunAsync(toledo, ScaleScenario.Loads([16000m]), [], ScaleDropMode.Graceful, TimeSpan.FromSeconds(20), cts.Token);
        await WaitForAsync(page, "tr.ticket", 4);
        await _charge.RunAsync(toledo, ScaleScenario.Loads([5000m]), [], ScaleDropMode.Graceful, TimeSpan.FromSeconds(20), cts.Token);
        await WaitUntilAsync(async () => (await page.Locator("tr.last-heat .loss").AllTextContentsAsync()).Contains("8.57"));

        // Void the 500 kg charge on the page: heat 1 is republished (rev 1) and its melt loss becomes 5.88.
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync("wrong furnace");
        var row500 = page.Locator("tr.ticket", new PageLocatorOptions { HasTextString = "500" }).Filter(new LocatorFilterOptions { HasNotTextString = "5,000" });
        await row500.Locator("button.void").ClickAsync();
        await WaitUntilAsync(async () => (await page.Locator("tr.last-heat .loss").AllTextContentsAsync()).Contains("5.88"));
        Assert.Contains("(rev 1)", await page.TextContentAsync("tr.last-heat"));

        // The trend chart of the last heats' melt loss follows the table: one bar, the revised heat's 100 × (1 − 16000 / 17000).
        var bars = page.Locator("section[data-furnace=F1] svg.trend[data-series=heat-loss] .point");
        Assert.Equal(1, await bars.CountAsync());
        Assert.Equal(100 * (1 - 16000.0 / 17000), double.Parse((await bars.GetAttributeAsync("data-v"))!, System.Globalization.CultureInfo.InvariantCulture), 1e-9);
        // No shift has closed yet in this short run: the intensity trend says so rather than drawing nothing.
        await Expect(page, "section.periods[data-entity=F1] .chart-empty[data-series=shift-intensity]");
        string audit = await File.ReadAllTextAsync(Path.Combine(_dir, "data", "operator-actions.jsonl"));
        Assert.Contains("\"reason\":\"wrong furnace\"", audit, StringComparison.Ordinal);
        Assert.Contains("\"by\":\"alice\"", audit, StringComparison.Ordinal);

        // The health view: the power meter's link is up and read.
        await Expect(page, "section.health tr[data-source=meters] td.on");

        // The language toggle.
        // F1 has no StateTag: instead of an empty "State: –" the heading says where its heats come from.
        Assert.Equal("heats from scale tickets", await page.TextContentAsync("section[data-furnace=F1] .furnace-state"));
        await page.ClickAsync("#lang");
        Assert.Equal("熔炼收得率与碳强度", await page.TextContentAsync("[data-t=title]"));
        Assert.Equal("炉次按称重票划分", await page.TextContentAsync("section[data-furnace=F1] .furnace-state"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(_dir, "dashboard.png"), FullPage = true });
    }

    private async Task<string> ListeningUrlAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var m = Regex.Match(_collector!.Stdout + _collector.Stderr, @"Now listening on: (http://127\.0\.0\.1:\d+)");
            if (m.Success)
            {
                return m.Groups[1].Value;
            }

            Assert.False(_collector.HasExited, _collector.Stderr);
            await Task.Delay(100);
        }

        throw new TimeoutException("the collector did not report its endpoint");
    }

    private static Task Expect(IPage page, string selector) => page.WaitForSelectorAsync(selector, new PageWaitForSelectorOptions { Timeout = 30_000 });

    private static Task WaitForAsync(IPage page, string selector, int count) =>
        WaitUntilAsync(async () => await page.Locator(selector).CountAsync() >= count);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not met within 30 s");
            }

            await Task.Delay(200);
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        _collector?.Dispose();
        await _charge.DisposeAsync();
        await _tap.DisposeAsync();
        if (_slave is not null)
        {
            await _slave.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }
}
