/** Tailwind reads the templ sources for the classes the views use. `make generate` builds
 * static/app.css from static/src/app.css with this file. */
module.exports = {
  content: ["./views/**/*.templ", "./views/**/*.go"],
  theme: {
    extend: {
      fontFamily: {
        sans: ["system-ui", "-apple-system", "\"Malgun Gothic\"", "\"Apple SD Gothic Neo\"", "\"Noto Sans KR\"", "sans-serif"],
      },
    },
  },
  plugins: [],
};
