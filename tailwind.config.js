/** Tailwind reads the templ sources for the classes the views use. `make generate` builds
 * static/app.css from static/src/app.css with this file. */
module.exports = {
  content: ["./views/**/*.templ", "./views/**/*.go"],
  theme: {
    extend: {
      fontFamily: {
        // The shipped font first (static/fonts.css): the same letters on every screen, Hangul on a
        // kiosk with no Korean font; the system's as the fallback while it loads.
        sans: ["\"Noto Sans KR Variable\"", "system-ui", "-apple-system", "\"Malgun Gothic\"", "\"Apple SD Gothic Neo\"", "sans-serif"],
      },
    },
  },
  plugins: [],
};
