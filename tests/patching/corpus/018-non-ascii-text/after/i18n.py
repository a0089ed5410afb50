GREETINGS = {
    "fr": "Bonjour, café ?",
    "zh": "你好",
    "emoji": "👋",
    "de": "Grüß Gott",
}
