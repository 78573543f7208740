export { Packager, type PackagerOptions, type PartPublished } from './packager.js';
