// The bundler (esbuild) turns a CSS import into the console's app.css.
declare module '*.css';
