export { Packager, type PackagerOptions } from './packager.js';
