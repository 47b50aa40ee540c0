import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ShennongCore
import ShennongTestSupport
import Testing

/// Scopes and the map on a real server (real mosquitto, the simulator, the `shennong` binary) and
/// in a real headless Chromium: `tokens create --scope`, `tokens list`, `tokens revoke`; the
/// GeoJSON and the dashboard's SVG map, coloured by each device's open warning level.
@Suite(.serialized, .timeLimit(.minutes(6)))
struct ScopeMapIntegrationTests {
    /// The dashboard's colour of each level.
    static let colours = ["none": "#2f7d32", "blue": "#1565c0", "yellow": "#f9a825", "orange": "#ef6c00", "red": "#c62828"]

    /// Places every device of the server (a CSV import, as an operator would), spread over a
    /// county around 24.7° N 112.4° E; returns the devices by id with their domain.
    static func place(_ server: ServerProcess) async throws -> [String: String] {
        let listed = try await server.get("/api/v1/devices").json["devices"] as? [[String: Any]] ?? []
        var csv = "id,profile,domain,site,latitude,longitude\n"
        var domains: [String: String] = [:]
        for (i, device) in listed.enumerated() {
            guard let id = device["id"] as? String, let profile = device["profile"] as? String, let domain = device["domain"] as? String else {
                continue
            }
            domains[id] = domain
            let site = device["site"] as? String ?? ""
            csv += "\(id),\(profile),\(domain),\(site),\(24.6 + Double(i % 5) * 0.05),\(112.3 + Double(i / 5) * 0.07)\n"
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("place-\(UUID().uuidString).csv")
        try csv.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let imported = try server.cli(["devices", "import", file.path])
        #expect(imported.status == 0, "\(imported.output)")
        return domains
    }

    /// The highest open or acknowledged level of each device, from the alerts API.
    static func levels(_ server: ServerProcess) async throws -> [String: String] {
        let alerts = try await server.get("/api/v1/alerts?open=true").json["alerts"] as? [[String: Any]] ?? []
        let order = ["none", "blue", "yellow", "orange", "red"]
        var levels: [String: String] = [:]
        for alert in alerts {
            guard let device = alert["device"] as? String, let level = alert["level"] as? String else { continue }
            if (order.firstIndex(of: level) ?? 0) > (order.firstIndex(of: levels[device] ?? "none") ?? 0) { levels[device] = level }
        }
        return levels
    }

    @Test("the map: GeoJSON (RFC 7946) and the SVG page in headless Chromium show every placed device coloured by its level; a scoped token's map, list and session see only its domain; tokens list shows scope and revocation; a revoked token and its browser session end at once")
    func mapScopesAndRevocation() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try await DashboardIntegrationTests.fedServer(broker: broker)
        let domains = try await Self.place(server)
        #expect(domains.count >= 11 && domains["sim-pond-001"] == "water", "\(domains)")
        let levels = try await Self.levels(server)
        #expect(levels["sim-pond-001"] == "red", "\(levels)")

        // The GeoJSON, whole: every device, valid, with the levels of the alerts API.
        let (status, geo) = try await server.get("/api/v1/map.geojson")
        #expect(status == 200)
        let features = geo["features"] as? [[String: Any]] ?? []
        #expect(Set(features.compactMap { $0["id"] as? String }) == Set(domains.keys))
        for feature in features {
            let coordinates = (feature["geometry"] as? [String: Any])?["coordinates"] as? [Double] ?? []
            #expect(coordinates.count == 2 && (-180...180).contains(coordinates[0]) && (-90...90).contains(coordinates[1]))
            let properties = feature["properties"] as? [String: Any] ?? [:]
            let id = feature["id"] as? String ?? ""
            #expect(properties["level"] as? String == levels[id] ?? "none", "\(id)")
        }

        // The page in Chromium: every placed device, in the colour of its level.
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("map-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let link = try server.cli(["dashboard", "login-link"])
        let url = try #require(link.output.split(separator: "\n").last { $0.hasPrefix("http://") }.map(String.init))
        let profile = work.appendingPathComponent("admin").path
        _ = try await DashboardIntegrationTests.dump(url, profile: profile, in: work)
        let dom = try await DashboardIntegrationTests.dump(server.baseURL + "/dashboard/map", profile: profile, in: work)
        #expect(dom.contains("设备分布图") && dom.contains("<svg"), "\(dom.prefix(2000))")
        for (id, _) in domains {
            let level = levels[id] ?? "none"
            let marker = #"data-device="\#(id)" data-level="\#(level)"><circle"#
            let element = dom.components(separatedBy: marker).dropFirst().first?.components(separatedBy: "</circle>").first
            #expect(element?.contains(#"fill="\#(Self.colours[level]!)""#) == true, "\(id) is not drawn in \(level)")
        }
        #expect(!dom.contains("<script"))
        let artifacts = ShennongBinary.repositoryRoot.appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let png = artifacts.appendingPathComponent("map.png").path
        _ = try await DashboardIntegrationTests.runChromium(
            ["--screenshot=\(png)", "--window-size=1100,1200", "--hide-scrollbars", server.baseURL + "/dashboard/map"], profile: profile,
            output: work.appendingPathComponent("shot.log").path)
        #expect(FileManager.default.fileExists(atPath: png))

        // A token scoped to weather, from the CLI.
        let created = try ShennongBinary.run([
            "tokens", "create", "--db", server.databasePath, "--role", "operator", "--name", "气象站", "--scope", "domain=weather",
        ])
        #expect(created.status == 0, "\(created.output)")
        let secret = try #require(created.output.split(separator: "\n").last { $0.hasPrefix("snk_") }.map(String.init))
        #expect(try ShennongBinary.run(["tokens", "create", "--db", server.databasePath, "--scope", "domain=aquaculture"]).status != 0)
        let listing = try ShennongBinary.run(["tokens", "list", "--db", server.databasePath, "--format", "json"])
        let rows = try JSONSerialization.jsonObject(with: Data(listing.output.utf8)) as? [[String: Any]] ?? []
        let row = try #require(rows.first { $0["name"] as? String == "气象站" })
        #expect(row["scope"] as? String == "domain=weather" && row["revoked"] as? Bool == false)
        let id = try #require(row["id"] as? Int)
        let table = try ShennongBinary.run(["tokens", "list", "--db", server.databasePath])
        #expect(table.output.contains("范围") && table.output.contains("domain=weather"), "\(table.output)")

        let weather = Set(domains.filter { $0.value == "weather" }.keys)
        #expect(!weather.isEmpty)
        func scoped(_ path: String) async throws -> (Int, Data) {
            var request = URLRequest(url: URL(string: server.baseURL + path)!)
            request.setValue("Bearer \(secret)", forHTTPHeaderField: "Authorization")
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        }
        let (listStatus, listData) = try await scoped("/api/v1/devices")
        let scopedDevices = ((try JSONSerialization.jsonObject(with: listData) as? [String: Any])?["devices"] as? [[String: Any]] ?? [])
            .compactMap { $0["id"] as? String }
        #expect(listStatus == 200 && Set(scopedDevices) == weather)
        let (mapStatus, mapData) = try await scoped("/api/v1/map.geojson")
        let scopedFeatures = ((try JSONSerialization.jsonObject(with: mapData) as? [String: Any])?["features"] as? [[String: Any]] ?? [])
            .compactMap { $0["id"] as? String }
        #expect(mapStatus == 200 && Set(scopedFeatures) == weather)
        #expect(try await scoped("/api/v1/devices/sim-pond-001").0 == 403)

        // Its browser session: the map shows the weather stations only.
        let scopedLink = try ShennongBinary.run(["dashboard", "login-link", "--server", server.baseURL, "--token", secret])
        let scopedURL = try #require(scopedLink.output.split(separator: "\n").last { $0.hasPrefix("http://") }.map(String.init))
        let scopedProfile = work.appendingPathComponent("scoped").path
        _ = try await DashboardIntegrationTests.dump(scopedURL, profile: scopedProfile, in: work)
        let scopedMap = try await DashboardIntegrationTests.dump(server.baseURL + "/dashboard/map", profile: scopedProfile, in: work)
        for device in domains.keys {
            #expect(scopedMap.contains(#"data-device="\#(device)""#) == weather.contains(device), "\(device) on the scoped map")
        }

        // Revoked: the API refuses it at once, and the browser's session ends.
        let revoke = try ShennongBinary.run(["tokens", "revoke", "\(id)", "--db", server.databasePath])
        #expect(revoke.status == 0, "\(revoke.output)")
        #expect(try await scoped("/api/v1/devices").0 == 401)
        let after = try await DashboardIntegrationTests.dump(server.baseURL + "/dashboard/map", profile: scopedProfile, in: work)
        #expect(!after.contains("<svg") && after.contains("name=\"token\""), "the revoked session still sees the map")
        let relisted = try ShennongBinary.run(["tokens", "list", "--db", server.databasePath, "--format", "json"])
        let again = (try JSONSerialization.jsonObject(with: Data(relisted.output.utf8)) as? [[String: Any]] ?? []).first { $0["id"] as? Int == id }
        #expect(again?["revoked"] as? Bool == true && again?["revoked_at"] as? String != nil)
        #expect(try ShennongBinary.run(["tokens", "revoke", "999999", "--db", server.databasePath]).status != 0)
        _ = server.terminate()
    }

    @Test("map.boundaries: serve --check reads each file; the running server's map draws the outline under the site's devices")
    func boundaries() async throws {
        let root = ShennongBinary.repositoryRoot
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("map-boundary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("dongpi.geojson").path
        try #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"东陂"},"geometry":{"type":"Polygon","coordinates":[[[112.30,24.70],[112.50,24.70],[112.50,24.90],[112.30,24.90],[112.30,24.70]]]}}]}"#
            .write(toFile: good, atomically: true, encoding: .utf8)
        let bad = dir.appendingPathComponent("bad.geojson").path
        try "not geojson".write(toFile: bad, atomically: true, encoding: .utf8)
        func check(_ boundary: String) throws -> CLIResult {
            let config = dir.appendingPathComponent("check-\(UUID().uuidString).yaml").path
            try """
                profiles_dir: \(root.appendingPathComponent("devices").path)
                database:
                  path: \(dir.appendingPathComponent("none.db").path)
                map:
                  boundaries:
                    东陂村: \(boundary)
                """.write(toFile: config, atomically: true, encoding: .utf8)
            return try ShennongBinary.run(["serve", "--check", "--config", config])
        }
        let ok = try check(good)
        #expect(ok.status == 0 && ok.output.contains("map boundary of 东陂村"), "\(ok.output)")
        let refused = try check(bad)
        #expect(refused.status != 0 && refused.output.contains("map.boundaries.东陂村"), "\(refused.output)")

        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                dashboard:
                  templates_dir: \(root.appendingPathComponent("dashboards/staff").path)
                map:
                  boundaries:
                    东陂村: \(good)
                """)
        try await server.start()
        let add = try server.cli([
            "devices", "add", "pond-7", "--profile", "generic", "--domain", "water", "--site", "东陂村", "--latitude", "24.8",
            "--longitude", "112.4",
        ])
        #expect(add.status == 0, "\(add.output)")
        let link = try server.cli(["dashboard", "login-link"])
        let url = try #require(link.output.split(separator: "\n").last { $0.hasPrefix("http://") }.map(String.init))
        let profile = dir.appendingPathComponent("profile").path
        _ = try await DashboardIntegrationTests.dump(url, profile: profile, in: dir)
        let dom = try await DashboardIntegrationTests.dump(server.baseURL + "/dashboard/map", profile: profile, in: dir)
        #expect(dom.contains(#"class="boundary""#) && dom.contains(#"data-device="pond-7" data-level="none""#), "\(dom.prefix(3000))")
        _ = server.terminate()
    }
}
