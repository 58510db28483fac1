'use strict';

// grunt.loadNpmTasks('@dockpush/grunt') requires every .js here and calls it with grunt.
module.exports = function (grunt) {
  require('../dist').registerDockerPushTask(grunt);
};
