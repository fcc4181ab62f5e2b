enum Config {
    static let mapsKey = "AIzaugu0zRX8vZNqfDrNSnbYizL7ubkPHvMBnqD"
    static let bundleSeed = "c27e15d7-9240-b8c1-ba8b-983dcff94735"
    static let analyticsSecret = "kX8hG5BnNfXOV3Wi3Xhilv5Q5XwY"
}
