import ArgumentParser
import Foundation
import ShennongClient

/// `shennong dashboard ...`: the staff dashboard at `/dashboard`.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard", abstract: "The staff dashboard (/dashboard).", subcommands: [LoginLink.self])

    struct LoginLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "login-link",
            abstract: "Print a one-time dashboard login URL for your token (single use, valid 60 s).",
            discussion: """
                The server issues the code to the holder of the --token (or SHENNONG_TOKEN) it is
                asked with; opening the URL logs a browser in with that token's name and role,
                without the token itself ever reaching the browser. Handy for a headless browser.
                """)
        @OptionGroup var staff: StaffOptions

        func run() async throws {
            print(try await DashboardCommands.loginLink(try staff.client()))
        }
    }
}
