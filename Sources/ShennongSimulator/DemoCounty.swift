import ShennongCore

/// Where the steady model's devices stand: real places of 清远市 (Qingyuan, northern
/// Guangdong), so that `make demo` shows pond farms, vegetable plots, forest stations and
/// river gauges on the 连江 and 北江 instead of devices without a site.
///
/// Each domain has its sites; device n of a domain stands at site (n − 1) mod count, the
/// k-th there. Coordinates are the towns' approximate positions (a few hundred metres apart
/// per device), area codes are GB/T 2260. Config/demo-devices.csv is this table for
/// `shennong devices import` beside a server fed by `shennong simulate` (a test keeps them equal).
enum DemoCounty {
    struct Site {
        /// The site as registered (county or district, town, what it is).
        var site: String
        /// The short name devices there are called by.
        var label: String
        var latitude: Double
        var longitude: Double
        /// GB/T 2260 code of the county or district.
        var areaCode: String
        /// Numeric attributes of a gauge there (its stages, m above the gauge's datum).
        var attributes: [String: Double] = [:]
    }

    static let taiheFishFarm = Site(site: "清新区太和镇渔场", label: "太和渔场", latitude: 23.735, longitude: 113.018, areaCode: "441803")
    static let lianjiangkouFishFarm = Site(
        site: "英德市连江口镇渔场", label: "连江口渔场", latitude: 24.062, longitude: 113.281, areaCode: "441881")
    static let xianPlot = Site(site: "连州市西岸镇菜心基地", label: "西岸菜心基地", latitude: 24.846, longitude: 112.357, areaCode: "441882")
    static let baoanPlot = Site(site: "连州市保安镇菜地", label: "保安菜地", latitude: 24.707, longitude: 112.455, areaCode: "441882")
    static let chengjiaForest = Site(site: "阳山县秤架林区", label: "秤架林区", latitude: 24.826, longitude: 112.930, areaCode: "441823")
    static let shimentaiForest = Site(site: "英德市石门台林区", label: "石门台林区", latitude: 24.420, longitude: 113.100, areaCode: "441881")

    /// River reaches, each with its gauge's warning (警戒), guaranteed (保证) and highest
    /// recorded stage, above the same datum as the simulated `water_level` (demo numbers).
    static func reach(_ site: String, _ label: String, _ lat: Double, _ lon: Double, _ area: String, warning: Double, guaranteed: Double, highest: Double)
        -> Site
    {
        Site(
            site: site, label: label, latitude: lat, longitude: lon, areaCode: area,
            attributes: ["warning_stage": warning, "guaranteed_stage": guaranteed, "historical_max_stage": highest])
    }

    /// The sites of each domain, in the order devices 1, 2, … are placed.
    static func sites(_ domain: Domain) -> [Site] {
        switch domain {
        case .water: [taiheFishFarm, lianjiangkouFishFarm]
        case .soil: [xianPlot, baoanPlot]
        case .weather: [xianPlot, taiheFishFarm, chengjiaForest, shimentaiForest, baoanPlot]
        case .fire: [chengjiaForest, shimentaiForest]
        case .flood, .health:
            [
                reach("连江连州河段", "连江连州", 24.779, 112.392, "441882", warning: 4.5, guaranteed: 6.2, highest: 7.9),
                reach("连江阳山河段", "连江阳山", 24.468, 112.638, "441823", warning: 4.8, guaranteed: 6.5, highest: 8.3),
                reach("连江口河段", "连江口", 24.058, 113.272, "441881", warning: 4.6, guaranteed: 6.3, highest: 8.0),
                reach("北江英德河段", "北江英德", 24.183, 113.405, "441881", warning: 5.0, guaranteed: 6.8, highest: 8.6),
                reach("北江清城河段", "北江石角", 23.566, 112.962, "441802", warning: 5.2, guaranteed: 7.0, highest: 8.9),
            ]
        }
    }

    /// What a device of the domain is called after its site's label and number there.
    static func noun(_ domain: Domain) -> String {
        switch domain {
        case .water: "号塘水质仪"
        case .soil: "号地块墒情仪"
        case .weather: "号气象站"
        case .fire: "号火情监测点"
        case .flood, .health: "号水位站"
        }
    }

    /// Site, name, coordinates, area code and attributes of device `index` (from 1) of `domain`.
    static func place(_ domain: Domain, index: Int) -> (site: Site, name: String, latitude: Double, longitude: Double) {
        let sites = sites(domain)
        let site = sites[(index - 1) % sites.count]
        let k = (index - 1) / sites.count  // 0 for the first device at the site
        let latitude = ((site.latitude + 0.002 * Double(k % 10)) * 1000).rounded() / 1000
        // A weather station stands a little east of the ponds, plots or nodes it shares a site with.
        let east = domain == .weather ? 0.001 : 0
        let longitude = ((site.longitude + east + 0.002 * Double(k / 10)) * 1000).rounded() / 1000
        return (site, "\(site.label)\(k + 1)\(noun(domain))", latitude, longitude)
    }
}
