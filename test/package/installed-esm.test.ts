import { installedAppScenarios } from './scenarios';

describe('an ES-module application ("type": "module") that installs the tarball', () =>
  installedAppScenarios('module'));
